/**
 * The worker role (`CLUSTERD_ROLE=worker` or `all`): the BullMQ workers (operations, drift sweeps,
 * webhook deliveries) and the background passes (reconciler, sweep schedule, expiry and support
 * watches, webhook requeue, outbox relay, retention).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import path from 'node:path';
import { Worker } from 'bullmq';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { ChildConfig } from '../../queue/child-protocol.js';
import { jobEnvironment, OWN_KIND_ENTRY, runInChildProcess, type ChildEntry } from '../../queue/child-runner.js';
import { keepSpareChildren } from '../../queue/spare-children.js';
import { DeliverySlots, defaultShares } from '../../queue/delivery-slots.js';
import { startApprovalExpiry } from '../../queue/approval-expiry.js';
import { startExpiryWatch } from '../../queue/expiry-watch.js';
import { startSupportWatch } from '../../queue/support-watch.js';
import { createLaneProcessor } from '../../queue/lane-processor.js';
import { SWEEPS_QUEUE, type SweepJobData } from '../../queue/names.js';
import { startOutboxPasses } from '../../queue/outbox-relay.js';
import { startReconciler } from '../../queue/reconciler.js';
import { startRetention, type RetentionSettings } from '../../queue/retention.js';
import { createSweepProcessor } from '../../queue/sweep-processor.js';
import { keepSweepScheduleApplied } from '../../queue/sweep-scheduler.js';
import { createWebhookProcessor } from '../../queue/webhook-processor.js';
import { startDeliveryRequeuer } from '../../queue/webhook-requeuer.js';
import { startWebhookWorker } from '../../queue/webhook-worker.js';
import { startClusterWorker } from '../../queue/worker.js';
import { writeOnlyFields } from '../blueprints/write-only.js';
import type { Config } from '../config.js';
import { engineEnvironment } from '../engine/engine-env.js';
import { checkPolicyPacks } from '../engine/policy-packs.js';
import { findCli } from '../engine/pulumi-cli.js';
import { approvalSubject, SqlApprovalStore } from '../store/approval-store.js';
import { databaseClock } from '../store/database-clock.js';
import { startRolloutDriver } from '../../queue/rollout-driver.js';
import { closeRedis } from '../redis.js';
import { SqlRetentionStore } from '../store/retention-store.js';
import { sealStoredSpecs } from '../store/seal-stored-specs.js';
import { SqlLaneStore } from '../store/sql-lane-store.js';
import { createWebhookSender } from '../webhooks/http-sender.js';
import type { Closer } from './close-in-order.js';
import { projectName, pulumiEnv } from './pulumi-project.js';
import type { SharedParts } from './shared-parts.js';

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

/**
 * How long a shutdown waits, once the workers have drained, for a background pass still under way.
 * Bounded because a pass can wait for ever on a Redis that has not answered since this process
 * started (a BullMQ queue waits for its first connection). Milliseconds.
 */
const PASS_WAIT_MS = 5_000;

/** Waits for the background passes stopped earlier, at most {@link PASS_WAIT_MS}; a pass still under way then is left behind. */
async function waitForPasses(ended: Promise<unknown>, log: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(resolve, PASS_WAIT_MS, 'late')));
  try {
    if ((await Promise.race([ended, late])) === 'late')
      log.warn({ waitedMs: PASS_WAIT_MS }, 'a background pass is still under way (Redis not reachable?); shutting down without it');
  } finally {
    clearTimeout(timer);
  }
}

/** What a worker may be given besides its configuration. */
export interface WorkerRoleOptions {
  /** The program each job's child runs. @defaultValue what this process runs: compiled, or the sources under tsx */
  childEntry?: ChildEntry;
}

/** Starts the workers and background passes; returns their shutdown steps, in order. */
export async function startWorkerRole(
  config: Config,
  log: Logger,
  shared: SharedParts,
  options: WorkerRoleOptions = {},
): Promise<{ closers: Closer[] }> {
  const { sql, store, dispatcher, relay } = shared;
  const workRoot = path.join(config.dataDir, 'workspaces');
  const env = await pulumiEnv(config, true);
  const childConfig: ChildConfig = {
    projectName: await projectName(),
    workRoot,
    env,
    secretsProvider: config.CLUSTERD_SECRETS_PROVIDER,
    blueprintModules: config.CLUSTERD_BLUEPRINT_MODULES.map((m) => path.resolve(m)),
    dataDir: config.dataDir,
    cli: await findCli(env.PATH ?? '', workRoot),
    policyPacks: await checkPolicyPacks(config.CLUSTERD_POLICY_PACKS, config.CLUSTERD_POLICY_PACK_CONFIGS),
  };
  const processEnv = engineEnvironment(process.env, config.CLUSTERD_ENGINE_ENV);
  const shutdown = new AbortController();
  const spares =
    config.WORKER_SPARE_CHILDREN > 0
      ? keepSpareChildren({
          entry: options.childEntry ?? OWN_KIND_ENTRY,
          env: jobEnvironment({ processEnv, childConfig }),
          size: config.WORKER_SPARE_CHILDREN,
          log,
        })
      : null;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  // The lanes nudge the rollout driver when an operation ends; it starts below.
  const driverNudge = { soon: (): void => undefined };
  const workerConnection = shared.redisConnection();
  const processor = createLaneProcessor({
    store,
    lanes: new SqlLaneStore(sql),
    sealer: shared.sealer,
    log,
    leaseMs: config.WORKER_LANE_LEASE_MS,
    shutdown: shutdown.signal,
    workerId,
    runEngine: (request, o) =>
      runInChildProcess(request, {
        ...o,
        cancelGraceMs: config.WORKER_CANCEL_GRACE_MS,
        childConfig,
        processEnv,
        entry: options.childEntry,
        ...(spares ? { start: () => spares.take() } : {}),
      }),
    requeue: (clusterId) => dispatcher.wake(clusterId),
    maintenance: shared.maintenance,
    wakeAt: (clusterId, when) => dispatcher.wakeAt(clusterId, when),
    approvalTtlMs: config.APPROVAL_TTL,
    afterAwait: (id) => relay.kick('operation.approval', approvalSubject(id, 'awaiting')),
    afterFinish: async (id) => {
      // A rollout member's operation may have ended: its slot goes to the next member now, not at the next pass.
      driverNudge.soon();
      await relay.kick('operation.finished', id);
    },
  });
  const worker = startClusterWorker({
    connection: workerConnection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    processor,
    shutdown,
    log,
  });
  const reconciler = startReconciler({ store, wake: (id) => dispatcher.wake(id), intervalMs: config.RECONCILE_INTERVAL_MS, log });

  const sweepConnection = shared.redisConnection();
  const sweeps = new Worker<SweepJobData>(
    SWEEPS_QUEUE,
    createSweepProcessor({
      store,
      drift: shared.drift,
      dispatcher: shared.acceptingDispatcher,
      log,
      shutdown: shutdown.signal,
      settings: {
        maxConcurrent: config.DRIFT_MAX_CONCURRENT_CHECKS,
        pollMs: config.DRIFT_SWEEP_POLL_MS,
        busyWaitMs: config.DRIFT_SWEEP_BUSY_WAIT_MS,
        staleMs: shared.sweepStaleMs,
      },
      afterSweep: (outcome, ms) => shared.metrics.sweepFinished(outcome, ms),
    }),
    // One sweep at a time per process; the records allow one fleet-wide.
    { connection: sweepConnection, prefix: config.QUEUE_PREFIX, concurrency: 1, lockDuration: 60_000 },
  );
  sweeps.on('error', (err) => log.warn({ err }, 'sweep worker error'));
  const schedule = keepSweepScheduleApplied(
    shared.sweepQueue,
    shared.redis,
    { cron: config.DRIFT_SWEEP_CRON, timezone: config.DRIFT_SWEEP_TIMEZONE, instanceId: workerId, prefix: config.QUEUE_PREFIX },
    log,
    config.RECONCILE_INTERVAL_MS,
  );
  const expiry = startExpiryWatch({
    store,
    blueprints: shared.blueprints,
    dispatcher: shared.acceptingDispatcher,
    webhooks: shared.notifier,
    log,
    warningsMs: config.EXPIRY_WARNINGS,
    intervalMs: config.EXPIRY_CHECK_INTERVAL_MS,
    batchSize: config.EXPIRY_BATCH_SIZE,
  });
  const approvalExpiry = startApprovalExpiry({
    approvals: new SqlApprovalStore(sql),
    wake: (id) => dispatcher.wake(id),
    afterExpiry: (id) => relay.kick('operation.finished', id),
    intervalMs: config.APPROVAL_CHECK_INTERVAL_MS,
    log,
  });
  const support = startSupportWatch({
    clusters: store,
    notices: shared.supportNotices,
    blueprints: shared.blueprints,
    now: databaseClock(sql),
    thresholdsDays: config.SUPPORT_WARNING_DAYS,
    intervalMs: config.SUPPORT_CHECK_INTERVAL_MS,
    afterNotice: () =>
      void shared.relay.pass().catch((err: unknown) => log.warn({ err }, 'outbox pass after a support warning failed; the next one will')),
    log,
  });

  const webhookConnection = shared.redisConnection();
  const shares = defaultShares(config.WEBHOOK_CONCURRENCY);
  const webhookWorker = startWebhookWorker({
    connection: webhookConnection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WEBHOOK_CONCURRENCY,
    log,
    processor: createWebhookProcessor({
      store: shared.webhookStore,
      log,
      timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      backoffMs: config.WEBHOOK_BACKOFF_MS,
      afterAttempt: (outcome) => shared.metrics.webhookAttempt(outcome),
      send: createWebhookSender({ policy: shared.receiverPolicy, timeoutMs: config.WEBHOOK_TIMEOUT_MS }),
      slots: new DeliverySlots({
        maxPerReceiver: config.WEBHOOK_RECEIVER_MAX_IN_FLIGHT ?? shares.maxPerReceiver,
        maxPerTeam: config.WEBHOOK_TEAM_MAX_IN_FLIGHT ?? shares.maxPerTeam,
      }),
    }),
  });
  const outboxPasses = startOutboxPasses(relay, config.RECONCILE_INTERVAL_MS, log);
  const retention = startRetention({
    store: new SqlRetentionStore(sql),
    settings: retentionSettings(config),
    intervalMs: config.RETENTION_INTERVAL_MS,
    log,
  });
  const requeuer = startDeliveryRequeuer({
    store: shared.webhookStore,
    requeue: (id) => shared.deliveries.requeue(id),
    intervalMs: config.RECONCILE_INTERVAL_MS,
    graceMs: config.RECONCILE_INTERVAL_MS,
    log,
  });
  const rolloutDriver = startRolloutDriver(
    {
      store: shared.rollouts,
      specs: {
        blueprint: (name) => shared.blueprints.get(name),
        open: (spec) => shared.sealer.open(spec),
        seal: (blueprint, spec) => shared.sealer.seal(spec, writeOnlyFields(blueprint)),
      },
      dispatcher: shared.dispatcher,
      maintenance: shared.maintenance,
      afterPass: () =>
        relay.pass().catch((err: unknown) => log.warn({ err }, 'outbox pass after a rollout pass failed; the next one will')),
      now: databaseClock(sql),
      driverId: workerId,
      leaseMs: config.ROLLOUT_DRIVER_LEASE_MS,
      log,
    },
    config.ROLLOUT_DRIVER_INTERVAL_MS,
  );
  driverNudge.soon = () => rolloutDriver.soon();
  // A shutdown right after the start must not close Redis under a BullMQ connection still getting
  // ready: BullMQ then emits its late 'error' on an object it took the listeners off (an uncaught
  // exception, seen once in three clean runs). Bounded: with Redis away the worker starts as before.
  await Promise.race([
    Promise.allSettled([worker.worker, sweeps, webhookWorker.worker].map((w) => w.waitUntilReady())),
    sleep(2_000, undefined, { ref: false }),
  ]);
  log.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker started');

  // Records written before write-only fields were sealed get sealed in the background.
  const fieldsOf = (name: string) => {
    const blueprint = shared.blueprints.get(name);
    return blueprint ? writeOnlyFields(blueprint) : [];
  };
  sealStoredSpecs(sql, shared.sealer, fieldsOf).then(
    (n) => n && log.info({ rows: n }, 'sealed write-only spec fields stored in clear'),
    (err: unknown) => log.warn({ err }, 'could not seal write-only spec fields stored in clear; trying again at the next start'),
  );

  let passesEnded: Promise<unknown> = Promise.resolve();
  return {
    closers: [
      // All stopped first, so that no pass starts while the workers drain; a pass under way ends at its
      // next safe point and is waited for once the workers have drained.
      {
        name: 'background passes',
        close: async () => {
          passesEnded = Promise.all(
            [reconciler, schedule, requeuer, outboxPasses, retention, expiry, approvalExpiry, support, rolloutDriver].map((loop) =>
              loop.stop(),
            ),
          );
        },
      },
      { name: 'sweep worker', close: () => sweeps.close() },
      { name: 'sweep connection', close: () => closeRedis(sweepConnection) },
      // Operations first: the last ones to finish still publish their events.
      { name: 'operations worker', close: () => worker.drain(config.WORKER_SHUTDOWN_GRACE_MS) },
      { name: 'spare job processes', close: async () => spares?.close() },
      { name: 'webhook worker', close: () => webhookWorker.close() },
      { name: 'worker connection', close: () => closeRedis(workerConnection) },
      { name: 'webhook connection', close: () => closeRedis(webhookConnection) },
      { name: 'background passes under way', close: () => waitForPasses(passesEnded, log) },
      { name: 'drained', close: async () => log.info('workers drained') },
    ],
  };
}
