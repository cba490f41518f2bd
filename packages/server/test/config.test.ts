import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, configFromEnv, DEFAULT_CONFIG, loadConfig } from '../src/config.js';

test('env values are parsed, validated and frozen; flags win over env', () => {
  const config = loadConfig(configFromEnv({ PORT: '9000', EXECUTION_PROVIDERS: 'WebGPU, cpu', MAX_QUEUE_DELAY_MS: '2.5' }), { port: '9100' });
  assert.equal(config.port, 9100);
  assert.deepEqual(config.executionProviders, ['webgpu', 'cpu']);
  assert.equal(config.maxQueueDelayMs, 2.5);
  assert.equal(config.maxBatchSize, DEFAULT_CONFIG.maxBatchSize);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => { (config as { port: number }).port = 1; }, TypeError);
});

test('bad settings name their environment variable', () => {
  assert.throws(() => loadConfig(configFromEnv({ PORT: 'eighty' })), (err: unknown) => err instanceof ConfigError && /PORT/.test(err.message));
  assert.throws(() => loadConfig(configFromEnv({ EXECUTION_PROVIDERS: 'cuda,tpu' })), (err: unknown) => err instanceof ConfigError && /EXECUTION_PROVIDERS/.test(err.message) && /webgpu/.test(err.message));
  assert.throws(() => loadConfig(configFromEnv({ MAX_BATCH_SIZE: '0' })), /MAX_BATCH_SIZE/);
  assert.throws(() => loadConfig(configFromEnv({ LOG_LEVEL: 'loud' })), /LOG_LEVEL/);
});
