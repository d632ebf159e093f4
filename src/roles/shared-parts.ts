/**
 * What both roles (API and worker) build the same way: the record store and its views, the records
 * key, the blueprints, the shared Redis connection and its queues, the webhook notifier and the
 * outbox relay. Closed last, after both roles have stopped.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { createOutboxRelay } from '../../queue/outbox-relay.js';
import { createDispatcher } from '../../queue/operation-dispatcher.js';
import {
  OPERATIONS_QUEUE,
  SWEEPS_QUEUE,
  WEBHOOKS_QUEUE,
  type DeliverWebhookJobData,
  type RunClusterJobData,
  type SweepJobData,
} from '../../queue/names.js';
import { createDeliveryQueue } from '../../queue/webhook-dispatcher.js';
import { builtInBlueprints } from '../../programs/index.js';
import { BlueprintRegistry, loadBlueprintModules } from '../blueprints/registry.js';
import type { Config } from '../config.js';
import { createDriftReactions } from '../drift/drift-reactions.js';
import { createApprovalFollowUp, createOperationFollowUp } from '../lifecycle/operation-follow-up.js';
import { createRolloutFollowUp } from '../rollouts/rollout-follow-up.js';
import type { OperationDispatcher } from '../ports.js';
import { closeRedis, connectRedis, type RedisConnectionOptions } from '../redis.js';
import { loadRecordsKey, recordsKeyFileOf } from '../secrets/records-key.js';
import { SpecSealer } from '../secrets/spec-sealer.js';
import { openDatabase } from '../store/open-store.js';
import { SqlOperationProgressStore } from '../store/operation-progress-store.js';
import { SqlOutboxStore } from '../store/outbox-store.js';
import { SqlDriftStore } from '../store/sql-drift-store.js';
import { SqlRecordStore } from '../store/sql-record-store.js';
import { SqlRolloutStore } from '../store/sql-rollout-store.js';
import { SqlMaintenanceStore } from '../store/sql-maintenance-store.js';
import { databaseClock } from '../store/database-clock.js';
import { createMaintenanceGate } from '../maintenance/maintenance-gate.js';
import { SqlWebhookStore } from '../store/webhook-store.js';
import { SqlSupportNoticeStore } from '../store/support-notice-store.js';
import { createSupportFollowUp } from '../versions/support-follow-up.js';
import { createAddressPolicy } from '../webhooks/address-policy.js';
import { createWebhookNotifier } from '../webhooks/notifier.js';
import { createServiceMetrics } from '../metrics/service-metrics.js';
import { SqlActivityStore } from '../store/activity-store.js';
import type { Closer } from './close-in-order.js';

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

/** Opens what both roles share; `closers` close it, in order, once the roles have stopped. */
export async function openSharedParts(config: Config, log: Logger) {
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
  const maintenanceStore = new SqlMaintenanceStore(sql);
  const rollouts = new SqlRolloutStore(sql);
  const { key: recordsKey, generated: keyGenerated } = await loadRecordsKey(config.CLUSTERD_RECORDS_KEY, config.dataDir);
  if (keyGenerated && config.DATABASE_URL)
    log.warn(
      { file: recordsKeyFileOf(config.dataDir) },
      'CLUSTERD_RECORDS_KEY is not set: sealing write-only spec fields with a key kept in this data directory; processes on other machines cannot open them',
    );
  const sealer = new SpecSealer(recordsKey);
  const blueprints = new BlueprintRegistry();
  for (const b of builtInBlueprints) blueprints.register(b);
  await loadBlueprintModules(blueprints, config.CLUSTERD_BLUEPRINT_MODULES, { dataDir: config.dataDir });

  const tlsCa = config.REDIS_TLS_CA_FILE ? await readFile(config.REDIS_TLS_CA_FILE, 'utf8') : undefined;
  /** Every Redis connection of the process: the URL's TLS and password, and the configured CA. */
  const redisConnection = (options: Omit<RedisConnectionOptions, 'tlsCa'> = {}) =>
    connectRedis(config.REDIS_URL, { log, ...options, ...(tlsCa ? { tlsCa } : {}) });
  const redis = redisConnection({ failFast: true });
  const queue = new Queue<RunClusterJobData>(OPERATIONS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  queue.on('error', (err) => log.warn({ err: err.message }, 'queue error'));
  const dispatcher = createDispatcher(queue);
  const sweepQueue = new Queue<SweepJobData>(SWEEPS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  sweepQueue.on('error', (err) => log.warn({ err: err.message }, 'sweep queue error'));
  const webhookQueue = new Queue<DeliverWebhookJobData>(WEBHOOKS_QUEUE, { connection: redis, prefix: config.QUEUE_PREFIX });
  webhookQueue.on('error', (err) => log.warn({ err: err.message }, 'webhook queue error'));
  const deliveries = createDeliveryQueue(webhookQueue, { maxAttempts: config.WEBHOOK_MAX_ATTEMPTS, backoffMs: config.WEBHOOK_BACKOFF_MS });
  // Both roles publish: the API when a queued operation is cancelled, workers when one finishes.
  const notifier = createWebhookNotifier({ store: webhookStore, queue: deliveries, log });
  const acceptingDispatcher = resilient(dispatcher, log);
  // What follows a finished operation (its webhook event, drift report and remediation) runs from the
  // outbox entry committed with it, kicked at once by whichever process committed it.
  const reactions = createDriftReactions({ store, drift, dispatcher: acceptingDispatcher, webhooks: notifier, log });
  const supportNotices = new SqlSupportNoticeStore(sql);
  const metrics = createServiceMetrics({ activity: new SqlActivityStore(sql), queues: [queue, sweepQueue, webhookQueue] });
  const relay = createOutboxRelay({
    outbox: new SqlOutboxStore(sql),
    log,
    handlers: {
      'operation.finished': createOperationFollowUp({
        store,
        webhooks: notifier,
        reactions,
        afterFollowUp: (op, blueprint) => metrics.operationFinished(op, blueprint),
      }),
      'rollout.event': createRolloutFollowUp({ rollouts, webhooks: notifier }),
      'support.notice': createSupportFollowUp({ notices: supportNotices, webhooks: notifier }),
      'operation.approval': createApprovalFollowUp({ store, webhooks: notifier }),
    },
    // An entry claimed by a process that died is taken up again within about two reconcile intervals.
    holdMs: Math.max(5_000, 2 * config.RECONCILE_INTERVAL_MS),
  });

  const closers: Closer[] = [
    // The shared connection goes first: a queue still waiting for it (Redis down) then fails while it
    // still has its error listener. Closed first, the queue would drop the listener, and BullMQ's
    // late 'error' would escape as an unhandled rejection.
    { name: 'redis', close: () => closeRedis(redis) },
    // Their connection is closed already: what they report now is only that.
    { name: 'operations queue', close: () => queue.close().catch(() => undefined) },
    { name: 'sweep queue', close: () => sweepQueue.close().catch(() => undefined) },
    { name: 'webhook queue', close: () => webhookQueue.close().catch(() => undefined) },
    { name: 'record store', close: () => sql.close() },
  ];

  return {
    sql,
    redisConnection,
    store,
    drift,
    webhookStore,
    progress,
    rollouts,
    maintenanceStore,
    supportNotices,
    /** Whether a maintenance window lets the service start work on its own now. */
    maintenance: createMaintenanceGate({ store: maintenanceStore, now: databaseClock(sql) }),
    sealer,
    blueprints,
    redis,
    sweepQueue,
    /** Queues wake-ups; rejects when Redis cannot take one (the reconciler and requeues use it). */
    dispatcher,
    /** For accepted requests: never fails, the reconciler queues what Redis could not take. */
    acceptingDispatcher,
    deliveries,
    notifier,
    relay,
    metrics,
    // Where webhooks may go: checked when a URL is registered and again on every delivery.
    receiverPolicy: createAddressPolicy({ allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }),
    /** A running sweep silent for this long is considered dead. Milliseconds. */
    sweepStaleMs: Math.max(60_000, config.DRIFT_SWEEP_POLL_MS * 30),
    closers,
  };
}

export type SharedParts = Awaited<ReturnType<typeof openSharedParts>>;
