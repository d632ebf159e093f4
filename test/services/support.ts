/**
 * The services as src/main.ts wires them, over a real PGlite record store, with the queues and the
 * engine replaced by the recording stand-ins of ./recording-ports.ts. Tests take the `world`
 * fixture: one database per file (PGlite's first start is the slow part), emptied before every test,
 * so each test starts from no records at all and runs alone; teardown is the fixture's and always runs.
 */
import { SqlApprovalStore } from '../../src/store/approval-store.js';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it as base } from 'vitest';
import { outcomeOf } from '../../queue/outcome.js';
import { builtInBlueprints } from '../../programs/index.js';
import { toProblem } from '../../server/problem.js';
import { BlueprintRegistry } from '../../src/blueprints/registry.js';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import type { OperationRecord } from '../../src/domain/operation.js';
import { createDriftReactions } from '../../src/drift/drift-reactions.js';
import { DriftService, type DriftServiceDeps } from '../../src/drift/drift-service.js';
import type { EngineResult } from '../../src/engine/engine.js';
import { ClusterService, type ClusterServiceDeps } from '../../src/lifecycle/cluster-service.js';
import { OperationService } from '../../src/lifecycle/operation-service.js';
import type { CreateClusterBody } from '../../src/lifecycle/requests.js';
import { createLogger } from '../../src/logger.js';
import { SpecSealer } from '../../src/secrets/spec-sealer.js';
import { createAddressPolicy, type AddressPolicyOptions } from '../../src/webhooks/address-policy.js';
import { createWebhookNotifier } from '../../src/webhooks/notifier.js';
import { createReceiverCheck } from '../../src/webhooks/receiver-check.js';
import { WebhookService } from '../../src/webhooks/webhook-service.js';
// Everything this suite takes from src/store, in one place.
import { openDatabase } from '../../src/store/open-store.js';
import { principalFor, type Principal, type Role } from '../../src/auth/principal.js';
import type { DriftStore } from '../../src/store/drift-store.js';
import type { RecordStore } from '../../src/store/record-store.js';
export type { Principal };
import { SqlDriftStore } from '../../src/store/sql-drift-store.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlWebhookStore } from '../../src/store/webhook-store.js';
import { laneWriter } from '../support/lane-writer.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import { recordingDeliveryQueue, recordingDispatcher, recordingSweepQueue } from './recording-ports.js';

/**
 * The services' clock (ms since the epoch): fixed, so that expiries come out exact, on a day the
 * EKS calendar has settled for good: 1.31 to 1.33 in standard support, 1.33 the newest.
 */
export const NOW = Date.parse('2025-06-15T09:00:00.000Z');

/** An admin token. */
export const admin: Principal = principalFor({ id: 'token-admin', name: 'root', team: null, role: 'admin' });

/** A token of `team`, a member unless another role is given. */
export const member = (team: string, role: Exclude<Role, 'admin'> = 'member'): Principal => {
  const suffix = role === 'member' ? '' : `-${role}`;
  return principalFor({ id: `token-${team}${suffix}`, name: `${team}-ci${suffix}`, team, role });
};

/** A valid `eks` spec (the built-in blueprint, whose rules on changes and destroys are the real ones); deletion protection off unless asked. */
export const eksSpec = (over: Record<string, unknown> = {}) => ({
  region: 'eu-west-1',
  access: { teamRoleArn: 'arn:aws:iam::123456789012:role/platform' },
  deletionProtection: false,
  ...over,
});

/** The body of a create of the cluster `name`: the `eks` blueprint and a valid spec. */
export const createBody = (name: string, over: Partial<CreateClusterBody> = {}): CreateClusterBody => ({
  name,
  blueprint: 'eks',
  spec: eksSpec(),
  ...over,
});

/** What the API would answer for the error `promise` rejects with: its status, detail, and `field|rule` of each issue. */
export async function refusal(promise: Promise<unknown>): Promise<{ status: number; detail: string; errors: string[] }> {
  const err = await promise.then(
    (value) => assert.fail(`expected a refusal, got ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  const problem = toProblem(err);
  return { status: problem.status, detail: problem.detail, errors: (problem.errors ?? []).map((e) => `${e.field}|${e.rule}`) };
}

export interface World {
  store: RecordStore;
  clusters: ClusterService;
  operations: OperationService;
  drift: DriftService;
  driftStore: DriftStore;
  webhooks: WebhookService;
  /** What workers use to tell subscribers (operations finished, drift found). */
  notifier: ReturnType<typeof createWebhookNotifier>;
  /** What follows a finished drift check or remediation (the outbox runs it in the service). */
  reactions: ReturnType<typeof createDriftReactions>;
  /** The recording stand-ins; `cancelled` are the operation ids the API asked the outbox to follow up at once. */
  ports: {
    operations: ReturnType<typeof recordingDispatcher>;
    sweeps: ReturnType<typeof recordingSweepQueue>;
    deliveries: ReturnType<typeof recordingDeliveryQueue>;
    cancelled: string[];
    /** Clusters whose lanes the API woke (an operation that awaited approval was answered or cancelled). */
    woken: string[];
  };
  /** A ClusterService on this world's records with other settings (team caps, a stack output reader). */
  clusterService(over: Partial<ClusterServiceDeps>): ClusterService;
  /** A DriftService on this world's records with other settings. */
  driftService(over: Partial<DriftServiceDeps>): DriftService;
  /** A WebhookService on this world's records whose receivers are judged by this address policy. */
  webhookService(policy: AddressPolicyOptions): WebhookService;
  /** Starts the operation as a worker does (taking and letting go the cluster's lane), and leaves it running. */
  start(operationId: string): Promise<OperationRecord>;
  /** Runs the operation as a worker does, the engine reporting `result`; returns it finished. */
  run(operationId: string, result: EngineResult): Promise<OperationRecord>;
  /** Every cluster (destroyed ones too) as stored, with its operations' kinds and statuses: what "nothing was recorded" compares. */
  records(): Promise<Array<ClusterRecord & { operations: string[] }>>;
}

const log = createLogger('silent');

function buildWorld(sql: SqlClient): World {
  const store = new SqlRecordStore(sql);
  const driftStore = new SqlDriftStore(sql);
  const webhookStore = new SqlWebhookStore(sql);
  const blueprints = new BlueprintRegistry();
  for (const b of builtInBlueprints) blueprints.register(b);
  const sealer = new SpecSealer(randomBytes(32));
  const ports = {
    operations: recordingDispatcher(),
    sweeps: recordingSweepQueue(),
    deliveries: recordingDeliveryQueue(),
    cancelled: [] as string[],
    woken: [] as string[],
  };
  const notifier = createWebhookNotifier({ store: webhookStore, queue: ports.deliveries, log });
  const clusterService = (over: Partial<ClusterServiceDeps>) =>
    new ClusterService({ store, blueprints, dispatcher: ports.operations, sealer, now: async () => NOW, ...over });
  const clusters = clusterService({});
  const driftService = (over: Partial<DriftServiceDeps>) =>
    new DriftService({
      drift: driftStore,
      clusters,
      startSweepJob: ports.sweeps.startSweepJob,
      maxConcurrent: 4,
      staleMs: 60_000,
      ...over,
    });
  const webhookService = (policy: AddressPolicyOptions) =>
    new WebhookService({
      store: webhookStore,
      deliver: notifier.deliver,
      checkReceiver: createReceiverCheck({ policy: createAddressPolicy(policy) }),
    });
  const lanes = laneWriter(sql);
  return {
    store,
    clusters,
    driftStore,
    notifier,
    ports,
    clusterService,
    driftService,
    webhookService,
    operations: new OperationService({
      store,
      clusters,
      dispatcher: ports.operations,
      approvals: new SqlApprovalStore(sql),
      wake: async (clusterId) => void ports.woken.push(clusterId),
      afterCancel: async (id) => void ports.cancelled.push(id),
    }),
    drift: driftService({}),
    webhooks: webhookService({}),
    reactions: createDriftReactions({ store, drift: driftStore, dispatcher: ports.operations, webhooks: notifier, log }),
    start: (id) => lanes.startOperation(id),
    async run(id, result) {
      const op = await lanes.startOperation(id);
      const cluster = (await store.getClusterById(op.clusterId))!;
      return lanes.finishOperation(id, outcomeOf(op, cluster, result));
    },
    async records() {
      const { items } = await store.listClusters({ limit: 200, includeDestroyed: true });
      return Promise.all(
        items.map(async (c) => ({ ...c, operations: (await store.listOperations(c.id, 200)).items.map((o) => `${o.kind}:${o.status}`) })),
      );
    },
  };
}

/** Empties every table but the migrations' own, so that the next test starts from no records. */
async function emptied(sql: SqlClient): Promise<void> {
  const { rows } = await sql.query<{ name: string }>(
    `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'`,
  );
  await sql.transaction(async (tx) => {
    // Foreign keys unchecked, so that tables empty in any order; DELETE, as TRUNCATE is several times slower on PGlite.
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const { name } of rows) await tx.query(`DELETE FROM "${name}"`);
  });
}

/** `it` with a `world`: the services over a database of their own, empty at the start of each test. */
export const it = base
  // `{}`: vitest reads what a fixture depends on from the pattern of its first parameter.
  // eslint-disable-next-line no-empty-pattern
  .extend('database', { scope: 'file' }, async ({}, { onCleanup }) => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-services-'));
    // Set once opened; the cleanup registered first also removes the directory when opening fails.
    // eslint-disable-next-line prefer-const
    let sql: SqlClient | undefined;
    onCleanup(async () => {
      await sql?.close();
      await rm(dataDir, { recursive: true, force: true });
    });
    await copyPgliteTemplate(path.join(dataDir, 'records'));
    sql = await openDatabase({ dataDir });
    return sql;
  })
  .extend('world', async ({ database }) => {
    await emptied(database);
    return buildWorld(database);
  });
