/**
 * The one place that builds and wires concrete dependencies. Everything else takes them as
 * arguments. Run directly it starts the service; tests import `startService`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue, Worker } from 'bullmq';
import type { Logger } from 'pino';
import { createDispatcher } from '../queue/operation-dispatcher.js';
import { runInChildProcess } from '../queue/child-runner.js';
import { createLaneProcessor } from '../queue/lane-processor.js';
import { DELIVER_WEBHOOK_JOB, OPERATIONS_QUEUE, SWEEP_JOB, SWEEPS_QUEUE, WEBHOOKS_QUEUE, type DeliverWebhookJobData, type RunClusterJobData, type SweepJobData } from '../queue/names.js';
import { startReconciler } from '../queue/reconciler.js';
import { createDeliveryQueue } from '../queue/webhook-dispatcher.js';
import { createWebhookProcessor } from '../queue/webhook-processor.js';
import { startDeliveryRequeuer } from '../queue/webhook-requeuer.js';
import { startWebhookWorker } from '../queue/webhook-worker.js';
import { startClusterWorker } from '../queue/worker.js';
import { createApp } from '../server/app.js';
import { ensureAdminToken } from './auth/tokens.js';
import { builtInBlueprints } from '../programs/index.js';
import { BlueprintRegistry, loadBlueprintModules } from './blueprints/registry.js';
import { loadConfig, type Config } from './config.js';
import { buildPulumiEnv, ensureFileBackend, ensurePassphrase } from './engine/pulumi-env.js';
import { createStackOutputReader } from './engine/stack-outputs.js';
import { ClusterService, type OperationDispatcher } from './lifecycle/cluster-service.js';
import { OperationService } from './lifecycle/operation-service.js';
import { createLogger } from './logger.js';
import { connectRedis } from './redis.js';
import { openDatabase } from './store/open-store.js';
import { SqlRecordStore } from './store/sql-store.js';
import { SqlDriftStore } from './drift/sql-drift-store.js';
import { DriftService } from './drift/drift-service.js';
import { createDriftReactions } from './drift/drift-reactions.js';
import { createSweepProcessor } from '../queue/sweep-processor.js';
import { keepSweepScheduleApplied } from '../queue/sweep-scheduler.js';
import { startExpiryWatch } from '../queue/expiry-watch.js';
import { SqlWebhookStore } from './store/webhook-store.js';
import { createWebhookNotifier } from './webhooks/notifier.js';
import { WebhookService } from './webhooks/webhook-service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningService {
  /** Base URL of the API, when this process serves it. */
  url: string | null;
  /** SIGTERM behaviour: stop accepting, drain workers within the grace period, close everything. */
  stop(): Promise<void>;
}

/** The Pulumi project every cluster stack belongs to, read from the root Pulumi.yaml. */
async function projectName(): Promise<string> {
  const yaml = await readFile(path.join(ROOT, 'Pulumi.yaml'), 'utf8');
  const name = /^name:\s*([\w.-]+)\s*$/m.exec(yaml)?.[1];
  if (!name) throw new Error('Pulumi.yaml has no name');
  return name;
}

/**
 * A dispatcher that never fails an accepted request: the operation is already recorded, and if
 * Redis cannot take the wake-up now, the reconciler queues it once Redis is back.
 */
function resilient(dispatcher: OperationDispatcher, log: Logger): OperationDispatcher {
  return {
    async dispatch(op) {
      try {
        await dispatcher.dispatch(op);
      } catch (err) {
        log.warn({ err, operationId: op.id }, 'could not queue operation now; the reconciler will');
      }
    },
  };
}

/** The environment of every Pulumi CLI call: backend, secrets, PATH for the dynamic provider plugin. */
async function pulumiEnv(config: Config) {
  const passphrase = config.CLUSTERD_SECRETS_PROVIDER === 'passphrase' ? config.PULUMI_CONFIG_PASSPHRASE ?? (await ensurePassphrase(config.dataDir)) : undefined;
  await ensureFileBackend(config.backendUrl);
  return buildPulumiEnv({ dataDir: config.dataDir, backendUrl: config.backendUrl, secretsProvider: config.CLUSTERD_SECRETS_PROVIDER, passphrase });
}

export async function startService(config: Config, log: Logger = createLogger(config.LOG_LEVEL)): Promise<RunningService> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const sql = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
  const store = new SqlRecordStore(sql);
  const drift = new SqlDriftStore(sql);
  const webhookStore = new SqlWebhookStore(sql);
  const blueprints = new BlueprintRegistry();
  for (const b of builtInBlueprints) blueprints.register(b);
  await loadBlueprintModules(blueprints, config.CLUSTERD_BLUEPRINT_MODULES, { dataDir: config.dataDir });

  const redis = connectRedis(config.REDIS_URL, { failFast: true });
  redis.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  const queue = new Queue<RunClusterJobData>(OPERATIONS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const dispatcher = createDispatcher(queue);
  const sweepQueue = new Queue<SweepJobData>(SWEEPS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  sweepQueue.on('error', (err) => log.warn({ err: err.message }, 'sweep queue error'));
  const sweepStaleMs = Math.max(60_000, config.DRIFT_SWEEP_POLL_MS * 30);
  const webhookQueue = new Queue<DeliverWebhookJobData>(WEBHOOKS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  webhookQueue.on('error', (err) => log.warn({ err: err.message }, 'webhook queue error'));
  const deliveries = createDeliveryQueue(webhookQueue, { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS });
  // Both roles publish: the API when a queued operation is cancelled, workers when one finishes.
  const notifier = createWebhookNotifier({ store: webhookStore, queue: deliveries, log });
  const closers: Array<() => Promise<unknown>> = [];
  let url: string | null = null;

  if (config.CLUSTERD_ROLE !== 'worker') {
    const readOutput = createStackOutputReader({ projectName: await projectName(), workRoot: path.join(config.dataDir, 'readers'), env: await pulumiEnv(config), secretsProvider: config.CLUSTERD_SECRETS_PROVIDER });
    const clusters = new ClusterService({ store, blueprints, dispatcher: resilient(dispatcher, log), maxTtl: config.CLUSTER_MAX_TTL, readOutput });
    const operations = new OperationService({ store, clusters, dispatcher: resilient(dispatcher, log), webhooks: notifier });
    const webhooks = new WebhookService({ store: webhookStore, deliver: notifier.deliver });
    const driftService = new DriftService({
      drift, clusters, maxConcurrent: config.DRIFT_MAX_CONCURRENT_CHECKS, staleMs: sweepStaleMs,
      startSweepJob: async (sweepId) => void (await sweepQueue.add(SWEEP_JOB, { sweepId }, { jobId: `sweep-${sweepId}`, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } })),
    });
    const pulumiVersion = promisify(execFile)('pulumi', ['version'], { timeout: 10_000 });
    pulumiVersion.catch(() => undefined);
    const app = createApp({
      store, clusters, operations, drift: driftService, webhooks, blueprints, log, maxBodyBytes: config.MAX_BODY_BYTES, maxBodyDepth: config.MAX_BODY_DEPTH,
      readiness: {
        recordStore: () => store.ping(),
        redis: async () => void (await redis.ping()),
        pulumiCli: async () => void (await pulumiVersion),
      },
    });
    const tokenFile = await ensureAdminToken(store, config.dataDir);
    if (tokenFile) log.info({ file: tokenFile }, 'created the first admin token; read it from this file');
    const server = app.listen(config.PORT, config.HOST);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    const { port } = server.address() as AddressInfo;
    url = `http://${config.HOST}:${port}`;
    log.info({ url }, 'API listening');
    closers.push(() => new Promise((resolve) => { server.close(resolve); server.closeAllConnections(); }));
  }

  if (config.CLUSTERD_ROLE !== 'api') {
    const env = await pulumiEnv(config);
    const childConfig = {
      projectName: await projectName(),
      workRoot: path.join(config.dataDir, 'workspaces'),
      env,
      secretsProvider: config.CLUSTERD_SECRETS_PROVIDER,
      blueprintModules: config.CLUSTERD_BLUEPRINT_MODULES.map((m) => path.resolve(m)),
      dataDir: config.dataDir,
    };
    const shutdown = new AbortController();
    const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const workerConnection = connectRedis(config.REDIS_URL);
    workerConnection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    const reactions = createDriftReactions({ store, drift, dispatcher: resilient(dispatcher, log), webhooks: notifier, log });
    const processor = createLaneProcessor({
      store, log, leaseMs: config.WORKER_LANE_LEASE_MS, shutdown: shutdown.signal,
      workerId,
      runEngine: (request, o) => runInChildProcess(request, { ...o, cancelGraceMs: config.WORKER_CANCEL_GRACE_MS, childConfig }),
      requeue: (clusterId) => dispatcher.wake(clusterId),
      onFinished: reactions.onOperationFinished,
      webhooks: notifier,
    });
    const worker = startClusterWorker({ connection: workerConnection, prefix: config.QUEUE_PREFIX, concurrency: config.WORKER_CONCURRENCY, processor, shutdown, log });
    const reconciler = startReconciler({ store, wake: (id) => dispatcher.wake(id), intervalMs: config.RECONCILE_INTERVAL_MS, log });
    const sweepConnection = connectRedis(config.REDIS_URL);
    sweepConnection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    const sweeps = new Worker<SweepJobData>(
      SWEEPS_QUEUE,
      createSweepProcessor({
        store, drift, dispatcher: resilient(dispatcher, log), log, shutdown: shutdown.signal,
        settings: { maxConcurrent: config.DRIFT_MAX_CONCURRENT_CHECKS, pollMs: config.DRIFT_SWEEP_POLL_MS, busyWaitMs: config.DRIFT_SWEEP_BUSY_WAIT_MS, staleMs: sweepStaleMs },
      }),
      // One sweep at a time per process; the records allow one fleet-wide.
      { connection: sweepConnection, prefix: config.QUEUE_PREFIX, concurrency: 1, lockDuration: 60_000 },
    );
    sweeps.on('error', (err) => log.warn({ err }, 'sweep worker error'));
    const schedule = keepSweepScheduleApplied(sweepQueue, redis, { cron: config.DRIFT_SWEEP_CRON, timezone: config.DRIFT_SWEEP_TIMEZONE, instanceId: workerId, prefix: config.QUEUE_PREFIX }, log, config.RECONCILE_INTERVAL_MS);
    const expiry = startExpiryWatch({
      store, blueprints, dispatcher: resilient(dispatcher, log), webhooks: notifier, log, warningsMs: config.EXPIRY_WARNINGS, intervalMs: config.EXPIRY_CHECK_INTERVAL_MS,
    });
    const webhookConnection = connectRedis(config.REDIS_URL);
    webhookConnection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    const webhookWorker = startWebhookWorker({
      connection: webhookConnection, prefix: config.QUEUE_PREFIX, concurrency: config.WEBHOOK_CONCURRENCY, log,
      processor: createWebhookProcessor({ store: webhookStore, log, timeoutMs: config.WEBHOOK_TIMEOUT_MS, maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS }),
    });
    const requeuer = startDeliveryRequeuer({ store: webhookStore, requeue: (id) => deliveries.requeue(id), intervalMs: config.RECONCILE_INTERVAL_MS, graceMs: config.RECONCILE_INTERVAL_MS, log });
    log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');
    closers.push(async () => {
      reconciler.stop();
      expiry.stop();
      schedule.stop();
      requeuer.stop();
      await sweeps.close();
      await sweepConnection.quit().catch(() => undefined);
      // Operations first: the last ones to finish still publish their events.
      await worker.drain(config.WORKER_SHUTDOWN_GRACE_MS);
      await webhookWorker.close();
      await workerConnection.quit().catch(() => undefined);
      await webhookConnection.quit().catch(() => undefined);
    });
  }

  return {
    url,
    async stop() {
      for (const close of closers) await close();
      await queue.close().catch(() => undefined);
      await sweepQueue.close().catch(() => undefined);
      await webhookQueue.close().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      await sql.close();
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
  const log = createLogger(config.LOG_LEVEL, { role: config.CLUSTERD_ROLE });
  const service = await startService(config, log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'draining');
    await service.stop();
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
