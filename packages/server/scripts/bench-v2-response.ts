/**
 * `npm run bench:v2-response`: what one large Open Inference Protocol response costs everyone else. The
 * real server (child process) answers `--repeats` v2 infer requests of `--rows` rows (image output only,
 * the request itself a few KB) one after another, while a worker thread probes `/healthz` every
 * `--probe-interval-ms`; it prints each response's size and time and the /healthz latency meanwhile.
 * A response built in one piece on the event loop shows as /healthz waiting for it.
 *
 *   npm run bench:v2-response -- --rows 48
 */
import { Command } from 'commander';
import { startHealthzProbe } from './bench/healthz-probe.js';
import { machineInfo } from './bench/machine.js';
import { fmt, positiveNumber, table } from './bench/report.js';
import { startChildServer } from './reliability/child-server.js';
import { send } from './reliability/http-client.js';

interface Options {
  modelsDir: string;
  model: string;
  rows: number;
  repeats: number;
  probeIntervalMs: number;
}

const program = new Command('bench-v2-response')
  .description('Large v2 infer responses against /healthz latency')
  .option('--models-dir <dir>', 'MODELS_DIR for the server', 'models')
  .option('--model <name>', 'model', 'dogs64')
  .option('--rows <n>', 'rows per infer request', positiveNumber, 48)
  .option('--repeats <n>', 'requests, one after another', positiveNumber, 5)
  .option('--probe-interval-ms <ms>', '/healthz probe interval', positiveNumber, 10);

const opts = program.parse().opts<Options>();
const machine = await machineInfo();
const server = await startChildServer({
  env: {
    MODELS_DIR: opts.modelsDir,
    EXECUTION_PROVIDERS: 'cpu',
    LOG_LEVEL: 'warn',
    MAX_SAMPLES_PER_IMAGE: String(opts.rows),
    MAX_INFER_RESPONSE_BYTES: String(2 ** 30),
  },
});
const info = JSON.parse(
  (await send(server.base, { method: 'GET', path: `/v2/models/${opts.model}` })).body.toString(),
) as { inputs: Array<{ name: string; shape: number[] }> };
const [latent, cls] = info.inputs;
const dim = latent.shape[1];
const body = JSON.stringify({
  inputs: [
    {
      name: latent.name,
      shape: [opts.rows, dim],
      datatype: 'FP32',
      data: Array.from({ length: opts.rows * dim }, (_, i) => Math.sin(i)),
    },
    { name: cls.name, shape: [opts.rows], datatype: 'INT64', data: new Array(opts.rows).fill(0) },
  ],
  outputs: [{ name: 'image' }],
});
const infer = () =>
  send(server.base, {
    method: 'POST',
    path: `/v2/models/${opts.model}/infer`,
    headers: { 'content-type': 'application/json' },
    body,
    timeoutMs: 120_000,
  });
await infer();
const probe = startHealthzProbe(`${server.base}/healthz`, opts.probeIntervalMs);
const responses: Array<{ status: number; mb: number; ms: number }> = [];
for (let i = 0; i < opts.repeats; i++) {
  const res = await infer();
  responses.push({ status: res.status, mb: res.body.length / 1e6, ms: res.ms });
}
const healthz = await probe.stop();
const exitCode = await server.stop();
console.log(
  `\n## v2 infer, ${opts.rows} rows of ${opts.model} (request ${fmt(body.length / 1e3, 1)} KB), ${opts.repeats} in a row (${machine.cpuModel}, ${machine.logicalCpus} CPUs, Node ${machine.node})\n`,
);
console.log(
  table(
    ['request', 'status', 'response MB', 'ms'],
    responses.map((r, i) => [i + 1, r.status, fmt(r.mb, 1), fmt(r.ms, 0)]),
  ),
);
console.log(
  `\n/healthz meanwhile (every ${opts.probeIntervalMs} ms, ${healthz.count} probes, ${healthz.failures} failures): p50 ${fmt(healthz.p50Ms, 2)} ms, p99 ${fmt(healthz.p99Ms, 1)} ms, max ${fmt(healthz.maxMs, 1)} ms; server exit code ${exitCode}`,
);
