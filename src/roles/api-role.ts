/**
 * The API role (`CLUSTERD_ROLE=api` or `all`): the services behind the routes, the event streams'
 * feed hub, rate limits, kubeconfig reads, and the HTTP server with its graceful close.
 */
import { approvalSubject, SqlApprovalStore } from '../store/approval-store.js';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from 'pino';
import { SWEEP_JOB } from '../../queue/names.js';
import { createApp } from '../../server/app.js';
import { trackRequests } from '../../server/graceful-close.js';
import { ShutdownState } from '../../server/shutdown-state.js';
import { StreamSlots } from '../../server/stream-slots.js';
import { ensureAdminToken, ensureGivenAdminToken } from '../auth/tokens.js';
import type { Config } from '../config.js';
import { DriftService } from '../drift/drift-service.js';
import { engineEnvironment } from '../engine/engine-env.js';
import { createSharedOutputReader } from '../engine/shared-output-reader.js';
import { createStackOutputReader } from '../engine/stack-outputs.js';
import { OperationFeedHub } from '../events/operation-feed-hub.js';
import { ClusterService } from '../lifecycle/cluster-service.js';
import { OperationService } from '../lifecycle/operation-service.js';
import { RolloutService } from '../rollouts/rollout-service.js';
import { TokenService } from '../tokens/token-service.js';
import { fleetVersions } from '../versions/fleet-versions.js';
import { TeamPolicyService } from '../guardrails/team-policy-service.js';
import { SqlTeamPolicyStore } from '../store/team-policy-store.js';
import { MaintenanceService } from '../maintenance/maintenance-service.js';
import { createRateLimiter } from '../limits/rate-limiter.js';
import type { RateRule } from '../limits/rate-rule.js';
import { databaseClock } from '../store/database-clock.js';
import { WebhookService } from '../webhooks/webhook-service.js';
import { createReceiverCheck } from '../webhooks/receiver-check.js';
import type { Closer } from './close-in-order.js';
import { projectName, pulumiEnv } from './pulumi-project.js';
import type { SharedParts } from './shared-parts.js';

/** A listening API. */
export interface ApiRole {
  /** Base URL of the API. */
  url: string;
  /** Turns readiness off (`/readyz` answers 503 `draining`); synchronous, the first thing a shutdown does. */
  beginShutdown(): void;
  /** Its shutdown steps, in order: the HTTP server (after HTTP_SHUTDOWN_DELAY_MS, within HTTP_SHUTDOWN_GRACE_MS), then the feed hub. */
  closers: Closer[];
}

/** Builds the API's services over the shared parts and starts listening on HOST:PORT. */
export async function startApiRole(config: Config, log: Logger, shared: SharedParts): Promise<ApiRole> {
  const { sql, store, redis } = shared;
  const shutdown = new ShutdownState();
  const outputs = createSharedOutputReader({
    read: createStackOutputReader({
      projectName: await projectName(),
      workRoot: path.join(config.dataDir, 'readers'),
      env: await pulumiEnv(config, false),
      processEnv: engineEnvironment(process.env, config.CLUSTERD_ENGINE_ENV),
    }),
    maxConcurrent: config.KUBECONFIG_MAX_CONCURRENT_READS,
    timeoutMs: config.KUBECONFIG_READ_TIMEOUT_MS,
    cacheMs: config.KUBECONFIG_CACHE_MS,
  });
  // One clock for the API: the database's, which the workers' watches (expiry, support) compare with too.
  const now = databaseClock(sql);
  const teamPolicyStore = new SqlTeamPolicyStore(sql);
  const clusters = new ClusterService({
    store,
    blueprints: shared.blueprints,
    sealer: shared.sealer,
    dispatcher: shared.acceptingDispatcher,
    maxTtl: config.CLUSTER_MAX_TTL,
    readOutput: (r) => outputs.read(r),
    now,
  });
  const operations = new OperationService({
    store,
    clusters,
    dispatcher: shared.acceptingDispatcher,
    approvals: new SqlApprovalStore(shared.sql),
    // The reconciler wakes it anyway if Redis is away now.
    wake: (clusterId) =>
      shared.dispatcher
        .wake(clusterId)
        .catch((err: unknown) => log.warn({ err, clusterId }, 'could not wake the lane now; the reconciler will')),
    afterCancel: (id) => shared.relay.kick('operation.finished', id),
    afterDecision: async (op, outcome) => {
      if (outcome === 'approved' || outcome === 'rejected') await shared.relay.kick('operation.approval', approvalSubject(op.id, outcome));
      if (outcome === 'rejected' || outcome === 'expired') await shared.relay.kick('operation.finished', op.id);
    },
  });
  const webhooks = new WebhookService({
    store: shared.webhookStore,
    deliver: shared.notifier.deliver,
    checkReceiver: createReceiverCheck({ policy: shared.receiverPolicy }),
  });
  const rollouts = new RolloutService({
    afterChange: () =>
      void shared.relay.pass().catch((err: unknown) => log.warn({ err }, 'outbox pass after a rollout change failed; the next one will')),
    rollouts: shared.rollouts,
    clusters: store,
    blueprints: shared.blueprints,
    sealer: shared.sealer,
    cancelIfQueued: (id) => operations.cancelIfQueued(id),
    now,
    policies: teamPolicyStore,
  });
  const driftService = new DriftService({
    drift: shared.drift,
    clusters,
    maxConcurrent: config.DRIFT_MAX_CONCURRENT_CHECKS,
    staleMs: shared.sweepStaleMs,
    startSweepJob: async (sweepId) =>
      void (await shared.sweepQueue.add(
        SWEEP_JOB,
        { sweepId },
        { jobId: `sweep-${sweepId}`, removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } },
      )),
  });
  const feeds = new OperationFeedHub({
    sources: { progress: (ids) => shared.progress.progress(ids), listEvents: (id, after, limit) => store.listEvents(id, after, limit) },
    listen: (channel, listener) => sql.listen(channel, listener),
    recheckMs: config.STREAMS_RECHECK_MS,
    log,
  });
  await feeds.start();
  const limit = (name: string, rule: RateRule | null) =>
    rule
      ? createRateLimiter({ name, rule, redis, prefix: config.QUEUE_PREFIX, redisTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS, log })
      : undefined;
  const pulumiVersion = promisify(execFile)('pulumi', ['version'], { timeout: 10_000 });
  pulumiVersion.catch(() => undefined);
  const app = createApp({
    store,
    // Expiries are compared with the database's clock when a token is looked up: they are set by it too.
    tokens: new TokenService({ store, now }),
    clusters,
    operations,
    drift: driftService,
    webhooks,
    rollouts,
    maintenance: new MaintenanceService({ store: shared.maintenanceStore, gate: shared.maintenance }),
    teamPolicies: new TeamPolicyService({ store: teamPolicyStore }),
    blueprints: shared.blueprints,
    fleetVersions: (principal, query) => fleetVersions({ clusters: store, blueprints: shared.blueprints, now }, principal, query),
    now,
    log,
    maxBodyBytes: config.MAX_BODY_BYTES,
    idempotencyKeyTtlMs: config.RETENTION_IDEMPOTENCY_KEYS,
    maxBodyDepth: config.MAX_BODY_DEPTH,
    streams: {
      feeds,
      slots: new StreamSlots({ perToken: config.STREAMS_MAX_PER_TOKEN, total: config.STREAMS_MAX_PER_PROCESS }),
      shutdown: shutdown.streamsEnd,
    },
    stream: { keepAliveMs: config.STREAMS_KEEPALIVE_MS },
    limits: {
      authFailures: limit('auth-failures', config.RATE_LIMIT_AUTH_FAILURES),
      webhookTests: limit('webhook-tests', config.RATE_LIMIT_WEBHOOK_TESTS),
      driftSweeps: limit('drift-sweeps', config.RATE_LIMIT_DRIFT_SWEEPS),
    },
    trustProxy: config.TRUST_PROXY,
    draining: () => shutdown.draining,
    metrics: shared.metrics,
    metricsElsewhere: config.METRICS_PORT !== undefined,
    readiness: {
      recordStore: () => store.ping(),
      redis: async () => void (await redis.ping()),
      pulumiCli: async () => void (await pulumiVersion),
    },
  });
  if (config.CLUSTERD_ADMIN_TOKEN_FILE) {
    const given = (await readFile(config.CLUSTERD_ADMIN_TOKEN_FILE, 'utf8')).trim();
    if (await ensureGivenAdminToken(store, given)) log.info({ file: config.CLUSTERD_ADMIN_TOKEN_FILE }, 'recorded the given admin token');
  } else {
    const tokenFile = await ensureAdminToken(store, config.dataDir);
    if (tokenFile) log.info({ file: tokenFile }, 'created the first admin token; read it from this file');
  }
  const server = app.listen(config.PORT, config.HOST);
  const requests = trackRequests(server);
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.HOST}:${port}`;
  log.info({ url }, 'API listening');

  return {
    url,
    beginShutdown: () => shutdown.begin(),
    closers: [
      {
        name: 'HTTP',
        close: async () => {
          requests.drain();
          // Load balancers see /readyz fail and stop sending before the listener goes away.
          if (config.HTTP_SHUTDOWN_DELAY_MS > 0) await new Promise((r) => setTimeout(r, config.HTTP_SHUTDOWN_DELAY_MS));
          const { cut } = await requests.close({ graceMs: config.HTTP_SHUTDOWN_GRACE_MS, endLongAnswers: () => shutdown.endStreams() });
          if (cut > 0) log.warn({ cut }, 'requests still unfinished after HTTP_SHUTDOWN_GRACE_MS were cut');
          log.info('HTTP closed');
        },
      },
      { name: 'operation feeds', close: () => feeds.stop() },
    ],
  };
}
