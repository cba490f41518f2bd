/**
 * Serves a model exported by scripts/pytorch/export_sagan.py and compares the server's images with
 * PyTorch's own (reference.json), requested by explicit z and by seed (scripts/pytorch/parity.ts).
 * Exits 1 unless every sample is within --tolerance levels (default 2, i.e. 2/255).
 *
 *   npm run check:pytorch -- models/torch64 [--providers webgpu,cpu] [--tolerance 2]
 */
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { pino } from 'pino';
import { loadConfig } from '../src/config.js';
import { createApp, responseCacheFor } from '../src/http/app.js';
import { Metrics } from '../src/metrics.js';
import { ModelRegistry } from '../src/models/model-registry.js';
import { RenderPool } from '../src/render/render-pool.js';
import { compareWithPytorch, readPytorchReference } from './pytorch/parity.js';

const program = new Command('check-pytorch-parity')
  .argument('<model-dir>', 'directory written by scripts/pytorch/export_sagan.py')
  .option('--providers <list>', 'execution providers', 'cpu')
  .option('--tolerance <levels>', 'largest allowed difference in 8-bit levels', '2')
  .parse();
const modelDir = path.resolve(program.args[0]);
const { providers, tolerance } = program.opts<{ providers: string; tolerance: string }>();

const reference = await readPytorchReference(modelDir);
const modelsDir = await mkdtemp(path.join(tmpdir(), 'pytorch-parity-'));
await symlink(modelDir, path.join(modelsDir, path.basename(modelDir)));
const config = loadConfig({ modelsDir, executionProviders: providers, logLevel: 'warn' });
const logger = pino({ level: 'warn' });
const metrics = new Metrics({ processMetrics: false });
const registry = await ModelRegistry.open(config, metrics, logger);
const [entry] = registry.list();
if (!entry || entry.status !== 'ready') {
  console.error(`model not ready: ${entry?.reason ?? 'not found'}`);
  process.exit(1);
}
const renderer = new RenderPool({ threads: 1 });
// No response cache: every answer compared with PyTorch comes from inference.
const responses = responseCacheFor({ responseCacheMb: 0 }, metrics);
const app = createApp({ config, registry, metrics, logger, lifecycle: { draining: false }, renderer, responses });
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const port = (server.address() as { port: number }).port;

let worst = 0;
// One request at a time, then all at once (shared batches, the graph's dynamic batch axis).
for (const concurrent of [false, true]) {
  for (const r of await compareWithPytorch(`http://127.0.0.1:${port}`, entry.name, reference, { concurrent })) {
    worst = Math.max(worst, r.maxDiffByZ, r.maxDiffBySeed);
    console.log(
      `${concurrent ? 'batched   ' : 'one by one'} seed ${r.seed} class ${r.class}: max difference ${r.maxDiffByZ}/255 by z, ${r.maxDiffBySeed}/255 by seed`,
    );
  }
}
console.log(`provider ${entry.provider}; worst ${worst}/255; tolerance ${tolerance}/255`);
server.close();
await registry.close(1000);
await renderer.close();
process.exit(worst <= Number(tolerance) ? 0 : 1);
