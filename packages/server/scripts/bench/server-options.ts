/** Command-line options both bench scripts share: which model and providers, and the server's batching and CPU levers. */
import type { Command } from 'commander';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { nonNegativeInt, positiveNumber } from './report.js';

export interface ServerCliOptions {
  modelDir: string;
  providers: string;
  maxBatchSize?: number;
  maxQueueDelayMs?: number;
  intraOpThreads?: number;
  instances?: number;
  pngCompressionLevel?: number;
}

export function addServerOptions(program: Command): Command {
  return program
    .option('--model-dir <dir>', 'model directory (model.json + ONNX file)', 'models/dogs64')
    .option('--providers <list>', 'EXECUTION_PROVIDERS for the server and the raw ceiling', 'cpu')
    .option(
      '--max-batch-size <n>',
      `server MAX_BATCH_SIZE (server default ${DEFAULT_CONFIG.maxBatchSize})`,
      nonNegativeInt,
    )
    .option(
      '--max-queue-delay-ms <ms>',
      `server MAX_QUEUE_DELAY_MS (server default ${DEFAULT_CONFIG.maxQueueDelayMs})`,
      (v) => (v === '0' ? 0 : positiveNumber(v)),
    )
    .option(
      '--intra-op-threads <n>',
      `INTRA_OP_THREADS for the server and the raw ceiling (default ${DEFAULT_CONFIG.intraOpThreads} = ORT's choice)`,
      nonNegativeInt,
    )
    .option(
      '--instances <n>',
      `MODEL_INSTANCES for the server; the raw ceiling runs as many sessions at once (default ${DEFAULT_CONFIG.instances})`,
      nonNegativeInt,
    )
    .option(
      '--png-compression-level <n>',
      `PNG_COMPRESSION_LEVEL for the server and the encode ceiling (default ${DEFAULT_CONFIG.pngCompressionLevel})`,
      nonNegativeInt,
    );
}

/** Environment for the server child: only the levers given on the command line (the rest is inherited). */
export function serverEnv(o: ServerCliOptions): Record<string, string | undefined> {
  return {
    MAX_BATCH_SIZE: o.maxBatchSize?.toString(),
    MAX_QUEUE_DELAY_MS: o.maxQueueDelayMs?.toString(),
    INTRA_OP_THREADS: o.intraOpThreads?.toString(),
    MODEL_INSTANCES: o.instances?.toString(),
    PNG_COMPRESSION_LEVEL: o.pngCompressionLevel?.toString(),
  };
}

/** The value the server will use for a setting: the flag, else the inherited environment, else the default. */
export function effective(flag: number | undefined, envName: string, fallback: number): number {
  if (flag !== undefined) return flag;
  const fromEnv = process.env[envName];
  return fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : fallback;
}
