import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigError,
  configFromEnv,
  DEFAULT_CONFIG,
  laneSettings,
  loadConfig,
  tracingRequested,
} from '../src/config.js';

test('env values are parsed, validated and frozen; flags win over env', () => {
  const config = loadConfig(
    configFromEnv({ PORT: '9000', EXECUTION_PROVIDERS: 'WebGPU, cpu', MAX_QUEUE_DELAY_MS: '2.5' }),
    { port: '9100' },
  );
  assert.equal(config.port, 9100);
  assert.deepEqual(config.executionProviders, ['webgpu', 'cpu']);
  assert.equal(config.maxQueueDelayMs, 2.5);
  assert.equal(config.maxBatchSize, DEFAULT_CONFIG.maxBatchSize);
  assert.ok(Object.isFrozen(config));
  assert.throws(() => {
    (config as { port: number }).port = 1;
  }, TypeError);
});

test('bad settings name their environment variable', () => {
  assert.throws(
    () => loadConfig(configFromEnv({ PORT: 'eighty' })),
    (err: unknown) => err instanceof ConfigError && /PORT/.test(err.message),
  );
  assert.throws(
    () => loadConfig(configFromEnv({ EXECUTION_PROVIDERS: 'cuda,tpu' })),
    (err: unknown) =>
      err instanceof ConfigError && /EXECUTION_PROVIDERS/.test(err.message) && /webgpu/.test(err.message),
  );
  assert.throws(() => loadConfig(configFromEnv({ MAX_BATCH_SIZE: '0' })), /MAX_BATCH_SIZE/);
  assert.throws(() => loadConfig(configFromEnv({ LOG_LEVEL: 'loud' })), /LOG_LEVEL/);
});

test('ADMIN_TOKEN must be printable ASCII without whitespace: any other token could never match a Bearer header, so the server refuses to start', () => {
  const base = { modelControl: 'explicit', host: '0.0.0.0' } as const;
  const cases: Array<[string, RegExp]> = [
    ['0123456789abcdef\n', /whitespace/],
    ['0123456789abcdef ', /whitespace/],
    [' 0123456789abcdef', /whitespace/],
    ['0123456789 abcdef', /whitespace/],
    ['0123456789\tabcdef', /whitespace/],
    ['pässwort-0123456789', /ASCII/],
    ['token–with-en-dash-01', /ASCII/],
    ['0123456789abcdef\u0000', /ASCII/],
  ];
  for (const [token, why] of cases) {
    assert.throws(
      () => loadConfig(base, { adminToken: token }),
      (err: unknown) => err instanceof ConfigError && /ADMIN_TOKEN/.test(err.message) && why.test(err.message),
      JSON.stringify(token),
    );
    assert.throws(
      () => loadConfig(configFromEnv({ MODEL_CONTROL: 'explicit', HOST: '0.0.0.0', ADMIN_TOKEN: token })),
      ConfigError,
      JSON.stringify(token),
    );
  }
  const printable = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
  assert.equal(loadConfig(base, { adminToken: printable }).adminToken, printable);
  assert.throws(() => loadConfig(base, { adminToken: 'x'.repeat(15) }), /ADMIN_TOKEN/);
});

test('PRIORITY_LANES and BULK_MIN_SHARE: on with a quarter by default, parsed from env, bad values named', () => {
  const defaults = loadConfig();
  assert.deepEqual(laneSettings(defaults), { enabled: true, bulkMinShare: 0.25 });
  const off = loadConfig(configFromEnv({ PRIORITY_LANES: 'off', BULK_MIN_SHARE: '0.5' }));
  assert.equal(off.priorityLanes, 'off');
  assert.equal(off.bulkMinShare, 0.5);
  assert.deepEqual(laneSettings(off), { enabled: false, bulkMinShare: 0.5 });
  assert.equal(loadConfig(configFromEnv({ BULK_MIN_SHARE: '1' })).bulkMinShare, 1);
  assert.throws(
    () => loadConfig(configFromEnv({ PRIORITY_LANES: 'yes' })),
    (err: unknown) => err instanceof ConfigError && /PRIORITY_LANES/.test(err.message) && /on, off/.test(err.message),
  );
  for (const bad of ['0', '-0.1', '1.5', 'half'])
    assert.throws(
      () => loadConfig(configFromEnv({ BULK_MIN_SHARE: bad })),
      (err: unknown) => err instanceof ConfigError && /BULK_MIN_SHARE/.test(err.message),
      bad,
    );
});

test('RESPONSE_CACHE_MB: 64 MiB by default, 0 turns the cache off, fractions allowed; negative or non-numeric values fail naming it', () => {
  assert.equal(loadConfig().responseCacheMb, 64);
  assert.equal(loadConfig(configFromEnv({ RESPONSE_CACHE_MB: '0' })).responseCacheMb, 0);
  assert.equal(loadConfig(configFromEnv({ RESPONSE_CACHE_MB: '0.5' })).responseCacheMb, 0.5);
  for (const bad of ['-1', 'lots', '1e9'])
    assert.throws(
      () => loadConfig(configFromEnv({ RESPONSE_CACHE_MB: bad })),
      (err: unknown) => err instanceof ConfigError && /RESPONSE_CACHE_MB/.test(err.message),
      bad,
    );
});

test('tracing starts only when the OpenTelemetry environment asks for an exporter, and not when the SDK is disabled', () => {
  assert.equal(tracingRequested({}), false);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }), false);
  assert.equal(tracingRequested({ OTEL_SERVICE_NAME: 'gen', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }), false);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  assert.equal(tracingRequested({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  assert.equal(tracingRequested({ OTEL_TRACES_EXPORTER: 'console' }), true);
  assert.equal(
    tracingRequested({ OTEL_TRACES_EXPORTER: ' None ', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
    false,
  );
  assert.equal(tracingRequested({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), false);
  assert.equal(tracingRequested({ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), true);
});
