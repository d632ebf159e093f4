/**
 * The one place that builds and wires concrete dependencies. Everything else takes them as
 * arguments. Run directly it starts the service; tests import `startService`. The parts both roles
 * share, the API role and the worker role are built in `src/roles/`.
 */
import { constants } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { startApiRole, type ApiRole } from './roles/api-role.js';
import { joinProcesses, StartRefusedError } from './roles/backend-sharing.js';
import { closeInOrder } from './roles/close-in-order.js';
import { startMetricsListener } from './roles/metrics-listener.js';
import { openSharedParts } from './roles/shared-parts.js';
import { startWorkerRole, type WorkerRoleOptions } from './roles/worker-role.js';
import { RecordStoreInUseError } from './store/directory-lock.js';
import { SqlProcessRegistry } from './store/process-registry.js';
import { startTracing, type Tracing } from './tracing/tracing.js';

export interface RunningService {
  /** Base URL of the API, when this process serves it. */
  url: string | null;
  /** Base URL of the METRICS_PORT listener, when one is configured. */
  metricsUrl: string | null;
  /**
   * Shuts down in order (SIGTERM behaviour): `/readyz` answers 503 `draining` at once; after
   * HTTP_SHUTDOWN_DELAY_MS the listener closes and requests in flight get HTTP_SHUTDOWN_GRACE_MS to
   * finish (then event streams are ended and what is left is cut); then workers drain within
   * WORKER_SHUTDOWN_GRACE_MS; then the queues, Redis and the record store close. A step that fails
   * does not keep the later ones from running; the shutdown then rejects with its error (an
   * AggregateError when several failed). Calling it again returns the same shutdown.
   */
  stop(): Promise<void>;
}

export async function startService(
  config: Config,
  log: Logger = createLogger(config.LOG_LEVEL),
  workerOptions: WorkerRoleOptions = {},
): Promise<RunningService> {
  const shared = await openSharedParts(config, log);
  let registration: Awaited<ReturnType<typeof joinProcesses>>;
  try {
    registration = await joinProcesses(new SqlProcessRegistry(shared.sql), {
      role: config.CLUSTERD_ROLE,
      backendUrl: config.backendUrl,
      intervalMs: config.RECONCILE_INTERVAL_MS,
      log,
    });
  } catch (err) {
    await closeInOrder(shared.closers, log).catch(() => undefined);
    throw err;
  }
  const api: ApiRole | null = config.CLUSTERD_ROLE !== 'worker' ? await startApiRole(config, log, shared) : null;
  const worker = config.CLUSTERD_ROLE !== 'api' ? await startWorkerRole(config, log, shared, workerOptions) : null;
  let stopping: Promise<void> | undefined;
  const metrics =
    config.METRICS_PORT === undefined
      ? null
      : await startMetricsListener({ ...config, METRICS_PORT: config.METRICS_PORT }, log, shared, () => stopping !== undefined);
  // Shutdown phases in order: the API's, then the workers', then the metrics listener; queues, Redis and the records close last.
  const closers = [
    ...(api?.closers ?? []),
    ...(worker?.closers ?? []),
    ...(metrics ? [metrics.closer] : []),
    registration.closer,
    ...shared.closers,
  ];

  return {
    url: api?.url ?? null,
    metricsUrl: metrics?.url ?? null,
    stop() {
      // Readiness turns off synchronously, in the very call that starts the shutdown.
      api?.beginShutdown();
      stopping ??= closeInOrder(closers, log);
      return stopping;
    },
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  // Read once into the configuration: nothing this process starts may inherit it.
  delete process.env.PULUMI_CONFIG_PASSPHRASE;
  const log = createLogger(config.LOG_LEVEL, { role: config.CLUSTERD_ROLE });
  // Before anything that makes spans; off (nothing loaded) unless the OTEL_* variables switch it on.
  const tracing: Tracing = await startTracing(config.tracing, { log });
  const starting = startService(config, log);
  let stopping = false;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) {
      // The operator asked twice: whatever is still running (operations, requests) is cut short.
      log.error({ signal }, 'second signal: exiting at once without finishing the shutdown');
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    log.info(
      {
        signal,
        httpDelayMs: config.HTTP_SHUTDOWN_DELAY_MS,
        httpGraceMs: config.HTTP_SHUTDOWN_GRACE_MS,
        workerGraceMs: config.WORKER_SHUTDOWN_GRACE_MS,
      },
      'shutting down: readiness off, then HTTP, workers, queues, Redis and records in turn; a second signal exits at once',
    );
    // A signal while the service is still starting (the API may serve already, before the workers are
    // up) stops it in the same order as soon as it is up. A start that fails exits below instead.
    starting
      .then((service) => service.stop())
      // The spans of the shutdown too; a collector that does not answer costs the exporter's timeout.
      .then(() => tracing.shutdown().catch((err: unknown) => log.warn({ err }, 'traces not flushed')))
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          log.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  // Before the service is up: without them, a signal in that window would kill the process outright.
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await starting;
  } catch (err) {
    // A configuration problem, like an invalid variable: the message says what to change.
    if (!(err instanceof RecordStoreInUseError || err instanceof StartRefusedError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
