/**
 * The one place that builds and wires concrete dependencies. Everything else takes them as
 * arguments. Run directly it starts the service; tests import `startService`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { constants, hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createDispatcher } from '../queue/operation-dispatcher.js';
import { runInChildProcess } from '../queue/child-runner.js';
import { createLaneProcessor } from '../queue/lane-processor.js';
import { DELIVER_WEBHOOK_JOB, OPERATIONS_QUEUE, SWEEP_JOB, SWEEPS_QUEUE, WEBHOOKS_QUEUE, type DeliverWebhookJobData, type RunClusterJobData, type SweepJobData } from '../queue/names.js';
import { startReconciler } from '../queue/reconciler.js';
import { createDeliveryQueue } from '../queue/webhook-dispatcher.js';
import { DeliverySlots, defaultShares } from '../queue/delivery-slots.js';
import { createWebhookProcessor } from '../queue/webhook-processor.js';
import { startDeliveryRequeuer } from '../queue/webhook-requeuer.js';
import { startWebhookWorker } from '../queue/webhook-worker.js';
import { startClusterWorker } from '../queue/worker.js';
import { createApp } from '../server/app.js';
import { trackRequests } from '../server/graceful-close.js';
import { ShutdownState } from '../server/shutdown-state.js';
import { StreamSlots } from '../server/stream-slots.js';
import { ensureAdminToken } from './auth/tokens.js';
import { builtInBlueprints } from '../programs/index.js';
import { BlueprintRegistry, loadBlueprintModules } from './blueprints/registry.js';
import { loadConfig, type Config } from './config.js';
import { buildPulumiEnv, ensureFileBackend, ensurePassphrase, passphraseFileOf, writePassphraseFile } from './engine/pulumi-env.js';
import { engineEnvironment } from './engine/engine-env.js';
import { createSharedOutputReader } from './engine/shared-output-reader.js';
import { createStackOutputReader } from './engine/stack-outputs.js';
import { OperationFeedHub } from './events/operation-feed-hub.js';
import { createRateLimiter } from './limits/rate-limiter.js';
import type { RateRule } from './limits/rate-rule.js';
import { SqlOperationProgressStore } from './store/operation-progress-store.js';
import { ClusterService } from './lifecycle/cluster-service.js';
import type { OperationDispatcher } from './ports.js';
import { OperationService } from './lifecycle/operation-service.js';
import { createLogger } from './logger.js';
import { connectRedis } from './redis.js';
import { RecordStoreInUseError } from './store/directory-lock.js';
import { openDatabase } from './store/open-store.js';
import { SqlRetentionStore } from './store/retention-store.js';
import { SqlRecordStore } from './store/sql-record-store.js';
import { databaseClock } from './store/database-clock.js';
import { SqlLaneStore } from './store/sql-lane-store.js';
import { SqlDriftStore } from './store/sql-drift-store.js';
import { DriftService } from './drift/drift-service.js';
import { createDriftReactions } from './drift/drift-reactions.js';
import { createSweepProcessor } from '../queue/sweep-processor.js';
import { keepSweepScheduleApplied } from '../queue/sweep-scheduler.js';
import { startExpiryWatch } from '../queue/expiry-watch.js';
import { createOutboxRelay, startOutboxPasses } from '../queue/outbox-relay.js';
import { SqlOutboxStore } from './store/outbox-store.js';
import { createOperationFollowUp } from './lifecycle/operation-follow-up.js';
import { startRetention, type RetentionSettings } from '../queue/retention.js';
import { SqlWebhookStore } from './store/webhook-store.js';
import { createWebhookNotifier } from './webhooks/notifier.js';
import { loadRecordsKey, recordsKeyFileOf } from './secrets/records-key.js';
import { SpecSealer } from './secrets/spec-sealer.js';
import { sealStoredSpecs } from './store/seal-stored-specs.js';
import { writeOnlyFields } from './blueprints/write-only.js';
import { WebhookService } from './webhooks/webhook-service.js';
import { createAddressPolicy } from './webhooks/address-policy.js';
import { createWebhookSender } from './webhooks/http-sender.js';
import { createReceiverCheck } from './webhooks/receiver-check.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface RunningService {
  /** Base URL of the API, when this process serves it. */
  url: string | null;
  /**
   * Shuts down in order (SIGTERM behaviour): `/readyz` answers 503 `draining` at once; after
   * HTTP_SHUTDOWN_DELAY_MS the listener closes and requests in flight get HTTP_SHUTDOWN_GRACE_MS to
   * finish (then event streams are ended and what is left is cut); then workers drain within
   * WORKER_SHUTDOWN_GRACE_MS; then the queues, Redis and the record store close. Calling it again
   * returns the same shutdown.
   */
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

/**
 * Closes a Redis connection. QUIT fails on a connection that is down (no offline queue), and the
 * client would then go on reconnecting for ever and keep the process alive: disconnect it instead.
 */
async function closeRedis(connection: Redis): Promise<void> {
  await connection.quit().catch(() => connection.disconnect());
}

/** The environment of every Pulumi CLI call: backend, secrets, PATH for the dynamic provider plugin. */
async function pulumiEnv(config: Config) {
  let passphraseFile: string | undefined;
  if (config.CLUSTERD_SECRETS_PROVIDER === 'passphrase') {
    if (config.PULUMI_CONFIG_PASSPHRASE) passphraseFile = await writePassphraseFile(config.PULUMI_CONFIG_PASSPHRASE);
    else {
      await ensurePassphrase(config.dataDir);
      passphraseFile = passphraseFileOf(config.dataDir);
    }
  }
  await ensureFileBackend(config.backendUrl);
  return buildPulumiEnv({ dataDir: config.dataDir, backendUrl: config.backendUrl, secretsProvider: config.CLUSTERD_SECRETS_PROVIDER, passphraseFile });
}

/** How long each kind of record is kept, and how the retention pass removes the rest. */
function retentionSettings(config: Config): RetentionSettings {
  return {
    policy: {
      operationEventsMs: config.RETENTION_OPERATION_EVENTS,
      operationSpecsMs: config.RETENTION_OPERATION_SPECS,
      idempotencyKeysMs: config.RETENTION_IDEMPOTENCY_KEYS,
      webhookDeliveriesMs: config.RETENTION_WEBHOOK_DELIVERIES,
      driftHistoryMs: config.RETENTION_DRIFT_HISTORY,
      kubeconfigReadsMs: config.RETENTION_KUBECONFIG_READS,
    },
    batchSize: config.RETENTION_BATCH_SIZE,
    pauseMs: config.RETENTION_BATCH_PAUSE_MS,
  };
}

export async function startService(config: Config, log: Logger = createLogger(config.LOG_LEVEL)): Promise<RunningService> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const sql = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.dataDir,
    // The store already refuses every statement; stopping at once is what keeps another owner's records whole.
    onLockLost: (err) => {
      log.fatal({ err: err.message }, 'lost the lock on the embedded record store; stopping without writing anything more');
      process.exit(70);
    },
  });
  const store = new SqlRecordStore(sql);
  const drift = new SqlDriftStore(sql);
  const webhookStore = new SqlWebhookStore(sql);
  const progress = new SqlOperationProgressStore(sql);
  const { key: recordsKey, generated: keyGenerated } = await loadRecordsKey(config.CLUSTERD_RECORDS_KEY, config.dataDir);
  if (keyGenerated && config.DATABASE_URL) log.warn({ file: recordsKeyFileOf(config.dataDir) }, 'CLUSTERD_RECORDS_KEY is not set: sealing write-only spec fields with a key kept in this data directory; processes on other machines cannot open them');
  const sealer = new SpecSealer(recordsKey);
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
  // What follows a finished operation (its webhook event, drift report and remediation) runs from the
  // outbox entry committed with it, kicked at once by whichever process committed it.
  const reactions = createDriftReactions({ store, drift, dispatcher: resilient(dispatcher, log), webhooks: notifier, log });
  const relay = createOutboxRelay({
    outbox: new SqlOutboxStore(sql), log,
    handlers: { 'operation.finished': createOperationFollowUp({ store, webhooks: notifier, reactions }) },
    // An entry claimed by a process that died is taken up again within about two reconcile intervals.
    holdMs: Math.max(5_000, 2 * config.RECONCILE_INTERVAL_MS),
  });
  // Where webhooks may go: checked when a URL is registered and again on every delivery.
  const receiverPolicy = createAddressPolicy({ allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS });
  // Shutdown phases in order: the API's, then the workers'; queues, Redis and the records close last.
  const closers: Array<() => Promise<unknown>> = [];
  const shutdown = new ShutdownState();
  let url: string | null = null;

  if (config.CLUSTERD_ROLE !== 'worker') {
    const outputs = createSharedOutputReader({
      read: createStackOutputReader({ projectName: await projectName(), workRoot: path.join(config.dataDir, 'readers'), env: await pulumiEnv(config), processEnv: engineEnvironment(process.env, config.CLUSTERD_ENGINE_ENV) }),
      maxConcurrent: config.KUBECONFIG_MAX_CONCURRENT_READS, timeoutMs: config.KUBECONFIG_READ_TIMEOUT_MS, cacheMs: config.KUBECONFIG_CACHE_MS,
    });
    const clusters = new ClusterService({
      store, blueprints, sealer, dispatcher: resilient(dispatcher, log), maxTtl: config.CLUSTER_MAX_TTL, readOutput: (r) => outputs.read(r),
      // Expiries are compared by the workers' watch with the database's clock: they are set by it too.
      now: databaseClock(sql),
    });
    const operations = new OperationService({ store, clusters, dispatcher: resilient(dispatcher, log), afterCancel: (id) => relay.kick('operation.finished', id) });
    const webhooks = new WebhookService({ store: webhookStore, deliver: notifier.deliver, checkReceiver: createReceiverCheck({ policy: receiverPolicy }) });
    const driftService = new DriftService({
      drift, clusters, maxConcurrent: config.DRIFT_MAX_CONCURRENT_CHECKS, staleMs: sweepStaleMs,
      startSweepJob: async (sweepId) => void (await sweepQueue.add(SWEEP_JOB, { sweepId }, { jobId: `sweep-${sweepId}`, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } })),
    });
    const feeds = new OperationFeedHub({
      sources: { progress: (ids) => progress.progress(ids), listEvents: (id, after, limit) => store.listEvents(id, after, limit) },
      listen: (channel, listener) => sql.listen(channel, listener),
      recheckMs: config.STREAMS_RECHECK_MS, log,
    });
    await feeds.start();
    const limit = (name: string, rule: RateRule | null) =>
      rule ? createRateLimiter({ name, rule, redis, prefix: config.QUEUE_PREFIX, redisTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS, log }) : undefined;
    const pulumiVersion = promisify(execFile)('pulumi', ['version'], { timeout: 10_000 });
    pulumiVersion.catch(() => undefined);
    const app = createApp({
      store, clusters, operations, drift: driftService, webhooks, blueprints, log, maxBodyBytes: config.MAX_BODY_BYTES, idempotencyKeyTtlMs: config.RETENTION_IDEMPOTENCY_KEYS, maxBodyDepth: config.MAX_BODY_DEPTH,
      streams: { feeds, slots: new StreamSlots({ perToken: config.STREAMS_MAX_PER_TOKEN, total: config.STREAMS_MAX_PER_PROCESS }), shutdown: shutdown.streamsEnd },
      stream: { keepAliveMs: config.STREAMS_KEEPALIVE_MS },
      limits: {
        authFailures: limit('auth-failures', config.RATE_LIMIT_AUTH_FAILURES),
        webhookTests: limit('webhook-tests', config.RATE_LIMIT_WEBHOOK_TESTS),
        driftSweeps: limit('drift-sweeps', config.RATE_LIMIT_DRIFT_SWEEPS),
      },
      trustProxy: config.TRUST_PROXY,
      draining: () => shutdown.draining,
      readiness: {
        recordStore: () => store.ping(),
        redis: async () => void (await redis.ping()),
        pulumiCli: async () => void (await pulumiVersion),
      },
    });
    const tokenFile = await ensureAdminToken(store, config.dataDir);
    if (tokenFile) log.info({ file: tokenFile }, 'created the first admin token; read it from this file');
    const server = app.listen(config.PORT, config.HOST);
    const requests = trackRequests(server);
    await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
    const { port } = server.address() as AddressInfo;
    url = `http://${config.HOST}:${port}`;
    log.info({ url }, 'API listening');
    closers.push(async () => {
      requests.drain();
      // Load balancers see /readyz fail and stop sending before the listener goes away.
      if (config.HTTP_SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.HTTP_SHUTDOWN_DELAY_MS));
      const { cut } = await requests.close({ graceMs: config.HTTP_SHUTDOWN_GRACE_MS, endLongAnswers: () => shutdown.endStreams() });
      if (cut > 0) log.warn({ cut }, 'requests still unfinished after HTTP_SHUTDOWN_GRACE_MS were cut');
      log.info('HTTP closed');
      await feeds.stop();
    });
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
    const processEnv = engineEnvironment(process.env, config.CLUSTERD_ENGINE_ENV);
    const shutdown = new AbortController();
    const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    const workerConnection = connectRedis(config.REDIS_URL);
    workerConnection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    const processor = createLaneProcessor({
      store, lanes: new SqlLaneStore(sql), sealer, log, leaseMs: config.WORKER_LANE_LEASE_MS, shutdown: shutdown.signal,
      workerId,
      runEngine: (request, o) => runInChildProcess(request, { ...o, cancelGraceMs: config.WORKER_CANCEL_GRACE_MS, childConfig, processEnv }),
      requeue: (clusterId) => dispatcher.wake(clusterId),
      afterFinish: (id) => relay.kick('operation.finished', id),
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
      batchSize: config.EXPIRY_BATCH_SIZE,
    });
    const webhookConnection = connectRedis(config.REDIS_URL);
    webhookConnection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
    const shares = defaultShares(config.WEBHOOK_CONCURRENCY);
    const webhookWorker = startWebhookWorker({
      connection: webhookConnection, prefix: config.QUEUE_PREFIX, concurrency: config.WEBHOOK_CONCURRENCY, log,
      processor: createWebhookProcessor({
        store: webhookStore, log, timeoutMs: config.WEBHOOK_TIMEOUT_MS, maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS,
        send: createWebhookSender({ policy: receiverPolicy, timeoutMs: config.WEBHOOK_TIMEOUT_MS }),
        slots: new DeliverySlots({
          maxPerReceiver: config.WEBHOOK_RECEIVER_MAX_IN_FLIGHT ?? shares.maxPerReceiver,
          maxPerTeam: config.WEBHOOK_TEAM_MAX_IN_FLIGHT ?? shares.maxPerTeam,
        }),
      }),
    });
    const outboxPasses = startOutboxPasses(relay, config.RECONCILE_INTERVAL_MS);
    const retention = startRetention({ store: new SqlRetentionStore(sql), settings: retentionSettings(config), intervalMs: config.RETENTION_INTERVAL_MS, log });
    const requeuer = startDeliveryRequeuer({ store: webhookStore, requeue: (id) => deliveries.requeue(id), intervalMs: config.RECONCILE_INTERVAL_MS, graceMs: config.RECONCILE_INTERVAL_MS, log });
    log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');
    // Records written before write-only fields were sealed get sealed in the background.
    const fieldsOf = (name: string) => {
      const blueprint = blueprints.get(name);
      return blueprint ? writeOnlyFields(blueprint) : [];
    };
    sealStoredSpecs(sql, sealer, fieldsOf).then(
      (n) => n && log.info({ rows: n }, 'sealed write-only spec fields stored in clear'),
      (err: unknown) => log.warn({ err }, 'could not seal write-only spec fields stored in clear; trying again at the next start'),
    );
    closers.push(async () => {
      reconciler.stop();
      schedule.stop();
      requeuer.stop();
      outboxPasses.stop();
      await retention.stop();
      await expiry.stop();
      await sweeps.close();
      await closeRedis(sweepConnection);
      // Operations first: the last ones to finish still publish their events.
      await worker.drain(config.WORKER_SHUTDOWN_GRACE_MS);
      await webhookWorker.close();
      await closeRedis(workerConnection);
      await closeRedis(webhookConnection);
      log.info('workers drained');
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    stop() {
      // Readiness turns off synchronously, in the very call that starts the shutdown.
      shutdown.begin();
      stopping ??= (async () => {
        for (const close of closers) await close();
        // The shared connection goes first: a queue still waiting for it (Redis down) then fails while it
        // still has its error listener. Closed first, the queue would drop the listener, and BullMQ's
        // late 'error' would escape as an unhandled rejection.
        await closeRedis(redis);
        await queue.close().catch(() => undefined);
        await sweepQueue.close().catch(() => undefined);
        await webhookQueue.close().catch(() => undefined);
        await sql.close();
      })();
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
  let service: RunningService;
  try {
    service = await startService(config, log);
  } catch (err) {
    // A configuration problem, like an invalid variable: the message says what to change.
    if (!(err instanceof RecordStoreInUseError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  let stopping = false;
  const onSignal = (signal: 'SIGTERM' | 'SIGINT') => {
    if (stopping) {
      // The operator asked twice: whatever is still running (operations, requests) is cut short.
      log.error({ signal }, 'second signal: exiting at once without finishing the shutdown');
      process.exit(128 + constants.signals[signal]);
    }
    stopping = true;
    log.info(
      { signal, httpDelayMs: config.HTTP_SHUTDOWN_DELAY_MS, httpGraceMs: config.HTTP_SHUTDOWN_GRACE_MS, workerGraceMs: config.WORKER_SHUTDOWN_GRACE_MS },
      'shutting down: readiness off, then HTTP, workers, queues, Redis and records in turn; a second signal exits at once',
    );
    service.stop().then(
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
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
