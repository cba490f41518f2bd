/**
 * Server configuration: read once from the environment (and CLI flags, which win), validated with ajv,
 * then frozen. Nothing else in the server reads process.env (but the OpenTelemetry SDK, which reads its own
 * OTEL_* variables once tracingRequested has decided to start it).
 */
import { Ajv } from 'ajv';
import {
  BATCHING_SCHEMA_PROPERTIES,
  integerSchema,
  type BatchingConfig,
} from '@sagan-serve/model-contract/batching-config';
import { KNOWN_PROVIDERS, type ProviderName } from '@sagan-serve/model-contract/ort-session';
import { DEFAULT_LANE_SETTINGS, type LaneSettings } from './batching/priority-lanes.js';

export interface ServerConfig extends BatchingConfig {
  port: number;
  host: string;
  modelsDir: string;
  /** The model behind `GET /generate`; undefined = the only model, if there is exactly one. */
  defaultModel: string | undefined;
  executionProviders: ProviderName[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Time allowed on SIGTERM/SIGINT for queued and running work and responses being written, in ms. */
  shutdownGraceMs: number;
  /** A response whose client takes none of its bytes for this long is cut (its connection destroyed), in ms. */
  writeIdleTimeoutMs: number;
  /** Longest a retired model version waits for the responses still using it before cutting them, in ms. */
  releaseTimeoutMs: number;
  /** Largest Open Inference Protocol JSON response, in bytes (estimated before inference from the output shape). */
  maxInferResponseBytes: number;
  /** Largest `size` (output side in px) a request may ask for. */
  maxImageSize: number;
  /** Largest `n` (samples in one grid image). */
  maxSamplesPerImage: number;
  /** Largest count of images one `/samples` stream may ask for. */
  maxStreamSamples: number;
  /** zlib level for PNG (0-9): lower is faster and larger. */
  pngCompressionLevel: number;
  /** ORT intra-op threads per session (CPU provider); 0 = ORT's default with one instance, else cores / instances (cores / 2 when automatic). */
  intraOpThreads: number;
  /** Threads that convert and encode images (src/render/render-pool.ts); 0 = one per two cores, 1 to 4. */
  renderThreads: number;
  /** Nice increment (0-19) for inference and render threads, so the HTTP thread runs first (Linux). */
  workerNice: number;
  /** Largest JSON body accepted, in bytes. */
  bodyLimitBytes: number;
  /**
   * Repository control: 'none' (models are read once at start), 'explicit' (the /v1/repository load,
   * unload and index calls), 'poll' (those calls, and MODELS_DIR is re-read every repositoryPollSeconds).
   */
  modelControl: 'none' | 'explicit' | 'poll';
  /** Seconds between repository scans in poll mode. */
  repositoryPollSeconds: number;
  /** Bearer token every repository control call needs; required with control on a non-loopback host. */
  adminToken: string | undefined;
  /**
   * 'on': interactive requests go ahead of samples chunks in every model's queue (batching/priority-lanes.ts);
   * 'off': one FIFO for both.
   */
  priorityLanes: 'on' | 'off';
  /** With lanes on, the part of each batch kept for samples rows while any wait, in (0, 1]. */
  bulkMinShare: number;
  /** Bound of the response cache of seeded images, in MiB (src/cache/response-cache.ts); 0 = no cache. */
  responseCacheMb: number;
}

export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze({
  port: 8080,
  host: '0.0.0.0',
  modelsDir: 'models',
  defaultModel: undefined,
  executionProviders: ['cuda', 'webgpu', 'cpu'],
  logLevel: 'info',
  maxBatchSize: 16,
  maxQueueDelayMs: 0,
  maxQueueSize: 512,
  requestTimeoutMs: 30_000,
  instances: 1,
  shutdownGraceMs: 10_000,
  writeIdleTimeoutMs: 30_000,
  releaseTimeoutMs: 30_000,
  maxInferResponseBytes: 16_777_216,
  maxImageSize: 1024,
  maxSamplesPerImage: 64,
  maxStreamSamples: 10_000,
  pngCompressionLevel: 6,
  intraOpThreads: 0,
  renderThreads: 0,
  workerNice: 10,
  bodyLimitBytes: 1_048_576,
  modelControl: 'none',
  repositoryPollSeconds: 10,
  adminToken: undefined,
  priorityLanes: DEFAULT_LANE_SETTINGS.enabled ? 'on' : 'off',
  bulkMinShare: DEFAULT_LANE_SETTINGS.bulkMinShare,
  responseCacheMb: 64,
} satisfies ServerConfig);

/** Environment variable -> config key. The README's configuration table lists the same names. */
export const ENV_VARS: Readonly<Record<string, keyof ServerConfig>> = Object.freeze({
  PORT: 'port',
  HOST: 'host',
  MODELS_DIR: 'modelsDir',
  DEFAULT_MODEL: 'defaultModel',
  EXECUTION_PROVIDERS: 'executionProviders',
  LOG_LEVEL: 'logLevel',
  MAX_BATCH_SIZE: 'maxBatchSize',
  MAX_QUEUE_DELAY_MS: 'maxQueueDelayMs',
  MAX_QUEUE_SIZE: 'maxQueueSize',
  REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  MODEL_INSTANCES: 'instances',
  SHUTDOWN_GRACE_MS: 'shutdownGraceMs',
  WRITE_IDLE_TIMEOUT_MS: 'writeIdleTimeoutMs',
  RELEASE_TIMEOUT_MS: 'releaseTimeoutMs',
  MAX_INFER_RESPONSE_BYTES: 'maxInferResponseBytes',
  MAX_IMAGE_SIZE: 'maxImageSize',
  MAX_SAMPLES_PER_IMAGE: 'maxSamplesPerImage',
  MAX_STREAM_SAMPLES: 'maxStreamSamples',
  PNG_COMPRESSION_LEVEL: 'pngCompressionLevel',
  INTRA_OP_THREADS: 'intraOpThreads',
  RENDER_THREADS: 'renderThreads',
  WORKER_NICE: 'workerNice',
  BODY_LIMIT_BYTES: 'bodyLimitBytes',
  MODEL_CONTROL: 'modelControl',
  REPOSITORY_POLL_SECONDS: 'repositoryPollSeconds',
  ADMIN_TOKEN: 'adminToken',
  PRIORITY_LANES: 'priorityLanes',
  BULK_MIN_SHARE: 'bulkMinShare',
  RESPONSE_CACHE_MB: 'responseCacheMb',
});

const int = integerSchema;

const CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: Object.keys(DEFAULT_CONFIG).filter((k) => k !== 'defaultModel' && k !== 'adminToken'),
  properties: {
    port: int(0, 65535),
    host: { type: 'string', minLength: 1 },
    modelsDir: { type: 'string', minLength: 1 },
    defaultModel: { type: 'string', minLength: 1 },
    executionProviders: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...KNOWN_PROVIDERS] } },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] },
    ...BATCHING_SCHEMA_PROPERTIES,
    shutdownGraceMs: int(0),
    writeIdleTimeoutMs: int(100, 3_600_000),
    releaseTimeoutMs: int(0, 3_600_000),
    maxInferResponseBytes: int(65_536, 1_073_741_824),
    maxImageSize: int(8, 8192),
    maxSamplesPerImage: int(1, 1024),
    maxStreamSamples: int(1),
    pngCompressionLevel: int(0, 9),
    intraOpThreads: int(0, 1024),
    renderThreads: int(0, 64),
    workerNice: int(0, 19),
    bodyLimitBytes: int(1024),
    modelControl: { enum: ['none', 'explicit', 'poll'] },
    repositoryPollSeconds: { type: 'number', minimum: 0.05, maximum: 86_400 },
    adminToken: { type: 'string', minLength: 16, maxLength: 512 },
    priorityLanes: { enum: ['on', 'off'] },
    bulkMinShare: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    responseCacheMb: { type: 'number', minimum: 0, maximum: 1_048_576 },
  },
};

/** The batchers' priority lanes as the configuration sets them. */
export function laneSettings(config: Pick<ServerConfig, 'priorityLanes' | 'bulkMinShare'>): LaneSettings {
  return { enabled: config.priorityLanes === 'on', bulkMinShare: config.bulkMinShare };
}

/** Hosts that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * Why a token could never be presented, or undefined. The guard reads `Bearer <token>` up to the first
 * whitespace (a trailing newline from a secret file is the usual way in), and Node reads header bytes as
 * Latin-1, so a character outside ASCII in the environment's UTF-8 never compares equal.
 */
function adminTokenProblem(token: string): string | undefined {
  if (/\s/.test(token)) return 'contains whitespace (a trailing newline from a secret file?)';
  if (!/^[\x21-\x7e]*$/.test(token)) return 'contains characters outside printable ASCII';
  return undefined;
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: false });
// A type guard: what passes the schema is a ServerConfig (CONFIG_SCHEMA is written from that interface).
const validateConfig = ajv.compile<ServerConfig>(CONFIG_SCHEMA);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Raw values as strings (from env or CLI) or already typed values (from tests). */
export type RawConfig = Partial<Record<keyof ServerConfig, unknown>>;

export function configFromEnv(env: NodeJS.ProcessEnv): RawConfig {
  const raw: RawConfig = {};
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

/**
 * Whether to start OpenTelemetry tracing: the SDK's standard environment (OTEL_*) configures it, and
 * only its presence is read here, so a server without it starts no SDK. On when an OTLP endpoint
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set or OTEL_TRACES_EXPORTER names
 * an exporter; off when OTEL_TRACES_EXPORTER is `none` or OTEL_SDK_DISABLED is `true` (as the SDK
 * reads it: case and surrounding spaces ignored).
 */
export function tracingRequested(env: NodeJS.ProcessEnv): boolean {
  const given = (name: string) => (env[name] ?? '').trim();
  if (given('OTEL_SDK_DISABLED').toLowerCase() === 'true') return false;
  const exporters = given('OTEL_TRACES_EXPORTER');
  if (exporters !== '') return exporters.toLowerCase() !== 'none';
  return given('OTEL_EXPORTER_OTLP_ENDPOINT') !== '' || given('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== '';
}

/**
 * Merge layers (later wins) over the defaults, validate, freeze. Throws ConfigError naming every bad
 * setting with its environment variable.
 */
export function loadConfig(...layers: RawConfig[]): Readonly<ServerConfig> {
  const merged: Record<string, unknown> = { ...DEFAULT_CONFIG };
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) if (value !== undefined) merged[key] = value;
  }
  if (typeof merged.executionProviders === 'string') {
    merged.executionProviders = merged.executionProviders
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean);
  }
  if (merged.defaultModel === undefined) delete merged.defaultModel;
  if (merged.adminToken === undefined) delete merged.adminToken;
  if (!validateConfig(merged)) {
    const envName = (key: string) => Object.entries(ENV_VARS).find(([, k]) => k === key)?.[0] ?? key;
    const problems = (validateConfig.errors ?? []).map((e) => {
      const key =
        e.instancePath.split('/')[1] ??
        String(e.params && 'additionalProperty' in e.params ? e.params.additionalProperty : '');
      return `${envName(key)} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : ''}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const config: ServerConfig = merged;
  const tokenProblem = config.adminToken === undefined ? undefined : adminTokenProblem(config.adminToken);
  if (tokenProblem !== undefined) {
    throw new ConfigError(
      `invalid configuration: ADMIN_TOKEN ${tokenProblem}, so no Authorization: Bearer header could ever match it; use printable ASCII without spaces (e.g. openssl rand -hex 24)`,
    );
  }
  if (config.modelControl !== 'none' && !config.adminToken && !isLoopbackHost(config.host)) {
    throw new ConfigError(
      `invalid configuration: MODEL_CONTROL=${config.modelControl} on HOST ${config.host} (reachable from other machines) needs ADMIN_TOKEN (16 or more characters), or HOST=127.0.0.1`,
    );
  }
  Object.freeze(config.executionProviders);
  return Object.freeze(config);
}
