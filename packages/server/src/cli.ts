#!/usr/bin/env -S node --max-semi-space-size=2
/**
 * `sagan-serve` command: flags mirror the environment variables (flags win), then start the server and
 * exit 0 after a graceful SIGTERM/SIGINT shutdown.
 */
import { Command, Option } from 'commander';
import {
  ConfigError,
  DEFAULT_CONFIG,
  ENV_VARS,
  configFromEnv,
  loadConfig,
  type RawConfig,
  type ServerConfig,
  tracingRequested,
} from './config.js';

function flagFor(key: keyof ServerConfig): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

const program = new Command('sagan-serve')
  .description('Serve SAGAN generator ONNX models over HTTP with dynamic batching.')
  .showHelpAfterError();
for (const [env, key] of Object.entries(ENV_VARS)) {
  const fallback = DEFAULT_CONFIG[key];
  const shown = Array.isArray(fallback) ? fallback.join(',') : fallback;
  program.addOption(
    new Option(`${flagFor(key)} <value>`, `${env}${shown === undefined ? '' : ` (default: ${String(shown)})`}`),
  );
}
program.parse();
const flags = program.opts<Record<string, string>>();

let config: Readonly<ServerConfig>;
try {
  const fromFlags: RawConfig = {};
  for (const key of Object.values(ENV_VARS)) {
    const camel = key as string;
    if (flags[camel] !== undefined) fromFlags[key] = flags[camel];
  }
  config = loadConfig(configFromEnv(process.env), fromFlags);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`sagan-serve: ${err.message}`);
    process.exit(2);
  }
  throw err;
}

/**
 * Past the grace period every step of the shutdown has its own short deadline, so it ends well within
 * this margin; the backstop only fires if a step overran by a fault of ours, and says so.
 */
const SHUTDOWN_BACKSTOP_MS = 5000;

// The tracing instrumentations patch node:http and Express as those load, so the SDK starts before the
// server's modules are imported; with tracing off its modules are never loaded.
const tracing = tracingRequested(process.env) ? (await import('./telemetry/tracing-sdk.js')).startTracing() : undefined;
const { startServer } = await import('./server.js');
const running = await startServer(config, { tracing });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    setTimeout(() => {
      running.logger.fatal(
        { graceMs: config.shutdownGraceMs, backstopMs: SHUTDOWN_BACKSTOP_MS },
        'shutdown overran its deadline; exiting',
      );
      process.exit(1);
    }, config.shutdownGraceMs + SHUTDOWN_BACKSTOP_MS).unref();
    running.shutdown(signal).then(
      () => process.exit(0),
      (err: unknown) => {
        running.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
