/**
 * Test fixtures: tiny real SAGAN generators written by the project's own graph module into a temp
 * models directory, and a real app (real workers, real ONNX Runtime, real sharp) around them.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Response as SupertestResponse } from 'supertest';
import { pino } from 'pino';
import type { BatchingConfig } from '@sagan-serve/model-contract/batching-config';
import { loadConfig, type ServerConfig } from '../../src/config.js';
import { createApp, responseCacheFor } from '../../src/http/app.js';
import type { Lifecycle } from '../../src/http/app-deps.js';
import { Metrics } from '../../src/metrics.js';
import { ModelRegistry } from '../../src/models/model-registry.js';
import { RenderPool } from '../../src/render/render-pool.js';
import { writeModelDirectory } from '@sagan-serve/model-contract/model-directory';
import { randomWeights, type SaganGeneratorConfig } from '@sagan-serve/model-contract/sagan-graph';

export interface FixtureModel {
  name: string;
  classes: string[];
  imageSize?: number;
  width?: number;
  attentionResolution?: number | null;
  seed?: number;
  batching?: Partial<BatchingConfig>;
}

export const TINY_CLASSES = ['maltese_dog', 'golden_retriever', 'german_shepherd', 'saint_bernard'];

export function tinyConfig(model: FixtureModel): SaganGeneratorConfig {
  return {
    imageSize: model.imageSize ?? 16,
    zDim: 16,
    width: model.width ?? 4,
    numClasses: model.classes.length,
    attentionResolution: model.attentionResolution === undefined ? 8 : model.attentionResolution,
    poolKeys: true,
  };
}

/**
 * Writes version `version` of `model` in the versioned layout (`root/<name>/<version>/`), with weights from
 * `seed`; returns its directory.
 */
export async function writeModelVersion(
  root: string,
  model: FixtureModel,
  version: string,
  seed: number,
): Promise<string> {
  const config = tinyConfig(model);
  const dir = path.join(root, model.name, version);
  await writeModelDirectory(dir, config, randomWeights(config, seed), {
    name: model.name,
    version,
    classes: model.classes,
    untrained: true,
  });
  return dir;
}

export async function makeModelsDir(models: FixtureModel[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'sagan-models-'));
  for (const model of models) {
    const config = tinyConfig(model);
    await writeModelDirectory(path.join(dir, model.name), config, randomWeights(config, model.seed ?? 1), {
      name: model.name,
      version: '1',
      classes: model.classes,
      untrained: true,
      batching: model.batching,
    });
  }
  return dir;
}

export interface TestServer {
  app: ReturnType<typeof createApp>;
  /** The response cache the app uses (the front door needs the same one). */
  responses: ReturnType<typeof responseCacheFor>;
  registry: ModelRegistry;
  metrics: Metrics;
  config: Readonly<ServerConfig>;
  modelsDir: string;
  close(): Promise<void>;
}

export async function startTestServer(modelsDir: string, overrides: Partial<ServerConfig> = {}): Promise<TestServer> {
  // One instance (the default, explicit here) unless a test asks for more: the fault and overload tests
  // count batches in flight.
  const config = loadConfig({
    modelsDir,
    executionProviders: ['cpu'],
    logLevel: 'silent',
    intraOpThreads: 1,
    instances: 1,
    // No response cache unless a test asks for one: most tests repeat seeded requests and count the
    // inference they cause, or queue identical ones concurrently to fill a queue.
    responseCacheMb: 0,
    ...overrides,
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const metrics = new Metrics({ processMetrics: false });
  const lifecycle: Lifecycle = { draining: false };
  const registry = await ModelRegistry.open(config, metrics, logger);
  const renderer = new RenderPool({ threads: 1 });
  const responses = responseCacheFor(config, metrics);
  const app = createApp({ config, registry, metrics, logger, lifecycle, renderer, responses });
  return {
    app,
    registry,
    metrics,
    responses,
    config,
    modelsDir,
    close: async () => {
      await registry.close(1000);
      await renderer.close();
      await rm(modelsDir, { recursive: true, force: true });
    },
  };
}

/** Listens on a free port of 127.0.0.1; `base` is the origin to send requests to. */
export async function listenLocally(app: TestServer['app']): Promise<{ server: Server; port: number; base: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, port, base: `http://127.0.0.1:${port}` };
}

/** Reads a histogram's sum and count (over all label sets) from the app's registry. */
export async function histogramTotals(metrics: Metrics, name: string): Promise<{ sum: number; count: number }> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  let sum = 0;
  let count = 0;
  for (const v of (metric?.values ?? []) as Array<{ metricName?: string; value: number }>) {
    if (v.metricName === `${name}_sum`) sum += v.value;
    if (v.metricName === `${name}_count`) count += v.value;
  }
  return { sum, count };
}

/** A supertest parser that buffers any body (images) into a Buffer: `.buffer(true).parse(binary)`. */
export function binary(res: SupertestResponse, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** Polls `check` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
