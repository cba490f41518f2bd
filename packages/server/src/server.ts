/**
 * Wiring only: config -> logger -> metrics -> model registry -> app -> front door -> listen, plus graceful
 * shutdown.
 */
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import type { ServerConfig } from './config.js';
import { createApp, responseCacheFor } from './http/app.js';
import type { Lifecycle } from './http/app-deps.js';
import { frontDoor } from './http/front-door.js';
import { Metrics } from './metrics.js';
import { ModelRegistry } from './models/model-registry.js';
import { RepositoryPoller } from './models/repository-poller.js';
import { RenderPool } from './render/render-pool.js';
import { settlesWithin } from './settles-within.js';
import type { Tracing } from './telemetry/tracing-sdk.js';

export interface RunningServer {
  server: Server;
  registry: ModelRegistry;
  metrics: Metrics;
  logger: Logger;
  /** The port actually bound (useful with PORT=0). */
  port: number;
  /** Stop accepting, finish queued work within the grace period, release sessions. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Pending-connection queue for listen() (the kernel caps it at net.core.somaxconn). Node's default of 511
 * overflowed when scripts/overload.ts opened ~850 new connections/s (RELIABILITY.md): dropped SYNs are
 * retried by clients only after 1, 3, 7, 15 s..., so they waited past REQUEST_TIMEOUT_MS or got
 * ECONNRESET, for a 503 that the server answers in under a millisecond once it reads the request.
 */
const LISTEN_BACKLOG = 4096;

/**
 * What each of this file's shutdown steps may take once the grace period is over; with the registry's
 * own (models/version-retirement.ts) they stay under the CLI's backstop, 5 s past the grace period.
 */
const AFTER_GRACE_MS = 250;

export interface ServerOptions {
  /** The tracing SDK the CLI started (telemetry/tracing-sdk.ts); shut down, flushing its spans, last. */
  tracing?: Tracing;
}

export async function startServer(config: Readonly<ServerConfig>, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = pino({ level: config.logLevel, base: { service: 'sagan-serve' } });
  const metrics = new Metrics();
  const lifecycle: Lifecycle = { draining: false };
  const registry = await ModelRegistry.open(config, metrics, logger);
  const poller =
    config.modelControl === 'poll'
      ? new RepositoryPoller(registry, config.repositoryPollSeconds * 1000).start()
      : undefined;
  const renderer = new RenderPool({ threads: config.renderThreads, threadNice: config.workerNice });
  const responses = responseCacheFor(config, metrics);
  const app = createApp({ config, registry, metrics, logger, lifecycle, renderer, responses });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(frontDoor(app, { registry, metrics, responses }));
    s.once('error', reject);
    s.listen(config.port, config.host, LISTEN_BACKLOG, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    {
      host: config.host,
      port,
      renderThreads: renderer.threads,
      modelControl: config.modelControl,
      models: registry.list().map((m) => `${m.name}:${m.status}`),
    },
    'sagan-serve listening',
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      lifecycle.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Logged once the listening socket is closed, so the line is true when it is read.
      logger.info(
        { reason, graceMs: config.shutdownGraceMs },
        'shutting down: refusing new connections, draining queues',
      );
      const deadline = performance.now() + config.shutdownGraceMs;
      const remaining = () => Math.max(0, deadline - performance.now());
      // A scan in progress may wait on a load or an unload; the registry's close bounds those.
      await settlesWithin(poller?.stop(), remaining());
      // Queued and running work, then responses still being written, within the grace period; then what
      // is left is refused or cut and every session is released.
      await registry.close(remaining());
      // Batches finished above are still being encoded for their clients; those renders complete first.
      await settlesWithin(renderer.close(), Math.max(remaining(), AFTER_GRACE_MS));
      // Other responses (repository calls, metrics, pages) get the rest of the grace period; then every
      // connection still open is cut.
      if (!(await settlesWithin(closed, remaining()))) {
        server.closeAllConnections();
        await settlesWithin(closed, AFTER_GRACE_MS);
      }
      // The spans of the last responses are still buffered for the exporter.
      await settlesWithin(options.tracing?.shutdown(), Math.max(remaining(), AFTER_GRACE_MS));
      logger.info('shutdown complete');
    })();
    return stopping;
  };
  return { server, registry, metrics, logger, port, shutdown };
}
