import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { ConflictError, InputError, NotFoundError } from '../../src/errors.js';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { openRecordStore } from '../../src/store/open-store.js';
import type { NewCluster } from '../../src/store/cluster-store.js';
import type { OperationOutcome } from '../../src/store/lane-store.js';
import type { RecordStore } from '../../src/store/record-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { SqlLaneStore } from '../../src/store/sql-lane-store.js';
import type { LaneHold } from '../../src/store/lane-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';
import { changeSpec } from '../support/desired-spec.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const requestedBy = 'alice (team payments)';

const succeededWith = (cluster: OperationOutcome['cluster']): OperationOutcome => ({
  status: 'succeeded',
  summary: null,
  outputs: null,
  error: null,
  cluster,
  stackClean: true,
});

function storeSuite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`SqlRecordStore over ${label}`, () => {
    let backend: Backend;
    let store: SqlRecordStore;
    /** A store on another connection, where the backend has more than one. */
    let other: SqlRecordStore;
    let lanes: SqlLaneStore;
    let migrationResults: number[][];

    beforeAll(async () => {
      backend = await openBackend();
      // Two migrators at once on an empty database: separate connections where the backend has them.
      const clients = await backend.clients(2);
      const [first, second = first] = clients as [SqlClient, SqlClient?];
      migrationResults = await Promise.all([migrate(first), migrate(second)]);
      store = new SqlRecordStore(first);
      other = new SqlRecordStore(second);
      lanes = new SqlLaneStore(first);
    });

    afterAll(async () => {
      await backend.cleanup();
    });

    async function newCluster(over: Partial<NewCluster> = {}) {
      return store.createCluster(
        { name: uniq('c'), team: 'payments', blueprint: 'kind', labels: {}, spec: { nodes: 1 }, ...over },
        { kind: 'provision', requestedBy },
      );
    }

    /** Runs lane writes as a worker does: under a fresh hold on the cluster's lane, released after. */
    async function held<T>(clusterId: string, write: (hold: LaneHold) => Promise<T>): Promise<T> {
      const hold = await lanes.acquire(clusterId, uniq('worker'), 60_000);
      assert.ok(hold, `the lane of ${clusterId} is free`);
      try {
        return await write(hold);
      } finally {
        await lanes.release(hold);
      }
    }
    const clusterOf = async (operationId: string) => (await store.getOperation(operationId))?.clusterId ?? randomUUID();
    const start = async (id: string) => held(await clusterOf(id), async (h) => (await lanes.startOperation(h, id)).operation);
    const finish = async (id: string, outcome: OperationOutcome) => held(await clusterOf(id), (h) => lanes.finishOperation(h, id, outcome));

    async function destroy(clusterId: string): Promise<void> {
      const op = await store.enqueueOperation(clusterId, { kind: 'destroy', requestedBy });
      await start(op.id);
      await finish(op.id, succeededWith({ status: 'destroyed', outputs: {} }));
    }

    describe('migrate', () => {
      it('applies each migration once when two processes migrate at once', async () => {
        assert.deepEqual(migrationResults.map((r) => r.join(',')).sort(), ['', MIGRATIONS.map((m) => m.version).join(',')]);
        const { rows } = await (
          await backend.clients(1)
        )[0]!.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
        assert.deepEqual(
          rows,
          MIGRATIONS.map((m) => ({ version: m.version, name: m.name })),
        );
      });

      it('does nothing when run again', async () => {
        await store.migrate();
        await store.ping();
      });
    });

    describe('createCluster and getCluster', () => {
      it('records a provisioning cluster at generation 1 and its queued provision operation', async () => {
        const name = uniq('create');
        const { cluster, operation } = await newCluster({ name, labels: { env: 'dev' }, spec: { nodes: 3, region: 'eu' } });
        assert.match(cluster.id, UUID);
        assert.match(cluster.createdAt, ISO);
        assert.equal(cluster.updatedAt, cluster.createdAt);
        assert.deepEqual(cluster, {
          id: cluster.id,
          name,
          team: 'payments',
          blueprint: 'kind',
          labels: { env: 'dev' },
          spec: { nodes: 3, region: 'eu' },
          generation: 1,
          appliedSpec: null,
          appliedGeneration: null,
          status: 'provisioning',
          outputs: {},
          lastOperationId: null,
          driftPolicy: 'notify',
          expiresAt: null,
          maintenance: null,
          createdAt: cluster.createdAt,
          updatedAt: cluster.createdAt,
        });
        assert.match(operation.id, UUID);
        assert.equal(typeof operation.seq, 'number');
        assert.match(operation.queuedAt, ISO);
        assert.deepEqual(operation, {
          id: operation.id,
          clusterId: cluster.id,
          clusterName: name,
          team: 'payments',
          kind: 'provision',
          status: 'queued',
          seq: operation.seq,
          spec: { nodes: 3, region: 'eu' },
          generation: 1,
          requestedBy,
          requestedByTokenId: null,
          approval: null,
          cancelRequested: false,
          summary: null,
          outputs: null,
          error: null,
          supersededBy: null,
          sweepId: null,
          respectMaintenance: false,
          waitingFor: null,
          attempts: 0,
          queuedAt: operation.queuedAt,
          startedAt: null,
          finishedAt: null,
          traceParent: null,
        });
        assert.deepEqual(await store.getCluster(name), cluster);
        assert.deepEqual(await store.getClusterById(cluster.id), cluster);
        assert.deepEqual(await store.getOperation(operation.id), operation);
      });

      it('answers null for unknown names and ids, malformed ids included', async () => {
        assert.equal(await store.getCluster(uniq('nobody')), null);
        assert.equal(await store.getClusterById(randomUUID()), null);
        assert.equal(await store.getClusterById('not-a-uuid'), null);
        assert.equal(await store.getOperation('not-a-uuid'), null);
      });

      it('throws ConflictError when a live cluster has the name, and records nothing', async () => {
        const { cluster } = await newCluster();
        await assert.rejects(newCluster({ name: cluster.name, team: 'other' }), (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.equal(err.message, `a cluster named "${cluster.name}" already exists`);
          return true;
        });
        const page = await store.listClusters({ limit: 10, includeDestroyed: true, team: 'other' });
        assert.deepEqual(
          page.items.filter((c) => c.name === cluster.name),
          [],
        );
      });

      it('lets a destroyed cluster name be reused, and getCluster prefers the live one, then the newest destroyed', async () => {
        const name = uniq('reuse');
        const first = (await newCluster({ name })).cluster;
        await destroy(first.id);
        const destroyed = await store.getCluster(name);
        assert.equal(destroyed?.id, first.id);
        assert.equal(destroyed?.status, 'destroyed');

        const second = (await newCluster({ name })).cluster;
        assert.notEqual(second.id, first.id);
        assert.equal((await store.getCluster(name))?.id, second.id);

        await destroy(second.id);
        assert.equal((await store.getCluster(name))?.id, second.id);
        assert.equal((await store.getClusterById(first.id))?.status, 'destroyed');
      });
    });

    describe('listClusters', () => {
      const team = uniq('list');
      let a: ClusterRecord, b: ClusterRecord, c: ClusterRecord;
      const names = (items: ClusterRecord[]) => items.map((x) => x.name);

      beforeAll(async () => {
        a = (await newCluster({ team, name: `${team}-a`, blueprint: 'kind', labels: { env: 'dev', tier: 'web' } })).cluster;
        b = (await newCluster({ team, name: `${team}-b`, blueprint: 'eks', labels: { env: 'prod' } })).cluster;
        c = (await newCluster({ team, name: `${team}-c`, blueprint: 'kind', labels: { env: 'dev' } })).cluster;
        await destroy(c.id);
      });

      it('filters by team and leaves destroyed clusters out by default', async () => {
        assert.deepEqual(await store.listClusters({ team, limit: 10 }), { items: [a, b], nextCursor: null });
      });

      it('filters by blueprint, status and every label pair', async () => {
        assert.deepEqual(names((await store.listClusters({ team, blueprint: 'kind', limit: 10 })).items), [a.name]);
        assert.deepEqual(names((await store.listClusters({ team, blueprint: 'eks', limit: 10 })).items), [b.name]);
        assert.deepEqual(names((await store.listClusters({ team, status: 'provisioning', limit: 10 })).items), [a.name, b.name]);
        assert.deepEqual(names((await store.listClusters({ team, status: 'ready', limit: 10 })).items), []);
        assert.deepEqual(names((await store.listClusters({ team, labels: { env: 'dev' }, limit: 10 })).items), [a.name]);
        assert.deepEqual(names((await store.listClusters({ team, labels: { env: 'dev', tier: 'web' }, limit: 10 })).items), [a.name]);
        assert.deepEqual(names((await store.listClusters({ team, labels: { env: 'dev', tier: 'db' }, limit: 10 })).items), []);
        assert.deepEqual(names((await store.listClusters({ team, labels: {}, limit: 10 })).items), [a.name, b.name]);
      });

      it('includes destroyed clusters when asked, or when filtering on status destroyed', async () => {
        assert.deepEqual(names((await store.listClusters({ team, includeDestroyed: true, limit: 10 })).items), [a.name, b.name, c.name]);
        const destroyed = await store.listClusters({ team, status: 'destroyed', limit: 10 });
        assert.deepEqual(names(destroyed.items), [c.name]);
        assert.equal(destroyed.items[0]?.status, 'destroyed');
        assert.deepEqual(names((await store.listClusters({ team, labels: { env: 'dev' }, includeDestroyed: true, limit: 10 })).items), [
          a.name,
          c.name,
        ]);
      });

      it('pages in name order with an opaque cursor until nextCursor is null', async () => {
        const p1 = await store.listClusters({ team, includeDestroyed: true, limit: 2 });
        assert.deepEqual(names(p1.items), [a.name, b.name]);
        assert.match(p1.nextCursor ?? '', /^[A-Za-z0-9_-]+$/);
        const p2 = await store.listClusters({ team, includeDestroyed: true, limit: 2, cursor: p1.nextCursor! });
        assert.deepEqual(p2, { items: [(await store.getClusterById(c.id))!], nextCursor: null });

        const single = await store.listClusters({ team, limit: 1 });
        assert.deepEqual(names(single.items), [a.name]);
        const last = await store.listClusters({ team, limit: 1, cursor: single.nextCursor! });
        assert.deepEqual(names(last.items), [b.name]);
        assert.equal(last.nextCursor, null);
      });

      it('pages through clusters sharing a name (one destroyed, one live) without skipping either', async () => {
        const t = uniq('dup');
        const old = (await newCluster({ team: t, name: `${t}-x` })).cluster;
        await destroy(old.id);
        const live = (await newCluster({ team: t, name: `${t}-x` })).cluster;
        const p1 = await store.listClusters({ team: t, includeDestroyed: true, limit: 1 });
        const p2 = await store.listClusters({ team: t, includeDestroyed: true, limit: 1, cursor: p1.nextCursor! });
        assert.deepEqual([...p1.items, ...p2.items].map((x) => x.id).sort(), [old.id, live.id].sort());
        assert.equal(p2.nextCursor, null);
      });

      it('rejects a limit outside 1-200 and a cursor it did not issue with InputError', async () => {
        for (const limit of [0, 201, 1.5]) {
          await assert.rejects(store.listClusters({ team, limit }), (err: unknown) => {
            assert.ok(err instanceof InputError);
            assert.equal(err.message, 'limit must be an integer from 1 to 200');
            assert.deepEqual(err.issues, [{ field: 'limit', rule: 'range', message: 'must be an integer from 1 to 200' }]);
            return true;
          });
        }
        await assert.rejects(store.listClusters({ team, limit: 1, cursor: 'bm90LWEtY3Vyc29y' }), InputError);
        await assert.rejects(store.listClusters({ team, limit: 1, cursor: '!!!' }), InputError);
      });
    });

    describe('changeCluster and enqueueOperation', () => {
      it('bumps the generation and queues an update carrying the new spec; labels change only when given', async () => {
        const { cluster } = await newCluster({ labels: { env: 'dev' }, spec: { nodes: 1 } });
        const u1 = await changeSpec(store, cluster.id, { spec: { nodes: 2 } }, requestedBy);
        assert.equal(u1.cluster.generation, 2);
        assert.deepEqual(u1.cluster.spec, { nodes: 2 });
        assert.deepEqual(u1.cluster.labels, { env: 'dev' });
        assert.equal(u1.cluster.status, 'provisioning');
        assert.deepEqual(
          { kind: u1.operation.kind, status: u1.operation.status, spec: u1.operation.spec, generation: u1.operation.generation },
          { kind: 'update', status: 'queued', spec: { nodes: 2 }, generation: 2 },
        );
        const u2 = await changeSpec(store, cluster.id, { spec: { nodes: 5 }, labels: { env: 'prod' } }, requestedBy);
        assert.equal(u2.cluster.generation, 3);
        assert.deepEqual(u2.cluster.labels, { env: 'prod' });
        assert.equal(u2.operation.generation, 3);
        assert.ok(u2.operation.seq > u1.operation.seq);
        assert.deepEqual(await store.getClusterById(cluster.id), u2.cluster);
      });

      it('throws NotFoundError for an unknown cluster and ConflictError for a destroyed one', async () => {
        await assert.rejects(changeSpec(store, randomUUID(), { spec: {} }, requestedBy), NotFoundError);
        await assert.rejects(store.enqueueOperation(randomUUID(), { kind: 'preview', requestedBy }), NotFoundError);
        const { cluster } = await newCluster();
        await destroy(cluster.id);
        await assert.rejects(changeSpec(store, cluster.id, { spec: {} }, requestedBy), ConflictError);
        await assert.rejects(store.enqueueOperation(cluster.id, { kind: 'refresh', requestedBy }), ConflictError);
      });

      it('decides each of racing changes on the cluster as the one before it left it, across connections', async () => {
        const { cluster } = await newCluster({ spec: { nodes: 1 } });
        const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
        const change = (k: string, i: number) =>
          [store, other][i % 2]!.changeCluster(cluster.id, (c) => ({ settings: {}, update: { spec: { ...c.spec, [k]: true } } }), {
            requestedBy,
          });
        await Promise.all(keys.map(change));
        const now = await store.getClusterById(cluster.id);
        assert.deepEqual([now?.generation, now?.spec], [1 + keys.length, { nodes: 1, ...Object.fromEntries(keys.map((k) => [k, true])) }]);
      });

      it('refuses a change and every new operation while a destroy is pending, naming it; takes them again once it failed', async () => {
        const { cluster } = await newCluster();
        const destroyOp = await store.enqueueOperation(cluster.id, { kind: 'destroy', requestedBy });
        const pending = (what: string) => `cluster "${cluster.name}" has a destroy queued (operation ${destroyOp.id}); cannot ${what} it`;
        await assert.rejects(changeSpec(store, cluster.id, { spec: { nodes: 2 } }, requestedBy), { message: pending('update') });
        await assert.rejects(
          store.changeCluster(cluster.id, () => ({ settings: { driftPolicy: 'auto' } }), { requestedBy }),
          {
            message: pending('update'),
          },
        );
        for (const kind of ['destroy', 'remediate', 'preview'] as const)
          await assert.rejects(store.enqueueOperation(cluster.id, { kind, requestedBy }), { message: pending(kind) });
        await start(destroyOp.id);
        await finish(destroyOp.id, { ...succeededWith({ status: 'failed' }), status: 'failed' });
        await changeSpec(store, cluster.id, { spec: { nodes: 2 } }, requestedBy);
        await store.enqueueOperation(cluster.id, { kind: 'destroy', requestedBy });
      });

      it('queues nothing behind a destroy that races it on another connection', async () => {
        for (let round = 0; round < 10; round++) {
          const { cluster } = await newCluster();
          const change =
            round % 2
              ? changeSpec(other, cluster.id, { spec: { round } }, requestedBy)
              : other.enqueueOperation(cluster.id, { kind: 'remediate', requestedBy });
          await Promise.allSettled([store.enqueueOperation(cluster.id, { kind: 'destroy', requestedBy }), change]);
          const { items } = await store.listOperations(cluster.id, 10);
          assert.equal(items[0]?.kind, 'destroy', `round ${round}: ${items.map((o) => o.kind).join(' < ')}, newest first`);
        }
      });

      it('queues other kinds with the current spec and generation; destroy also marks the cluster destroying', async () => {
        const { cluster } = await newCluster({ spec: { nodes: 1 } });
        await changeSpec(store, cluster.id, { spec: { nodes: 4 } }, requestedBy);
        const preview = await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy });
        assert.deepEqual(
          {
            kind: preview.kind,
            status: preview.status,
            spec: preview.spec,
            generation: preview.generation,
            clusterName: preview.clusterName,
          },
          { kind: 'preview', status: 'queued', spec: { nodes: 4 }, generation: 2, clusterName: cluster.name },
        );
        assert.equal((await store.getClusterById(cluster.id))?.status, 'provisioning');
        const destroyOp = await store.enqueueOperation(cluster.id, { kind: 'destroy', requestedBy });
        assert.equal(destroyOp.kind, 'destroy');
        assert.equal((await store.getClusterById(cluster.id))?.status, 'destroying');
      });
    });

    describe('operations', () => {
      it('lists pending operations oldest first and the history newest first, paged', async () => {
        const { cluster, operation: provision } = await newCluster();
        const update = (await changeSpec(store, cluster.id, { spec: { nodes: 2 } }, requestedBy)).operation;
        const preview = await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy });
        await start(provision.id);
        await finish(provision.id, succeededWith({ status: 'ready' }));
        assert.deepEqual(
          (await store.pendingOperations(cluster.id)).map((o) => o.id),
          [update.id, preview.id],
        );

        const p1 = await store.listOperations(cluster.id, 2);
        assert.deepEqual(
          p1.items.map((o) => o.id),
          [preview.id, update.id],
        );
        const p2 = await store.listOperations(cluster.id, 2, p1.nextCursor!);
        assert.deepEqual(
          p2.items.map((o) => o.id),
          [provision.id],
        );
        assert.equal(p2.nextCursor, null);
        await assert.rejects(store.listOperations(cluster.id, 0), InputError);
      });

      it('cancels a queued operation at once, flags a running one, and leaves a terminal one alone', async () => {
        const { cluster, operation: provision } = await newCluster();
        const preview = await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy });

        const cancelled = await store.requestCancel(preview.id);
        assert.equal(cancelled?.status, 'cancelled');
        assert.equal(cancelled?.cancelRequested, true);
        assert.match(cancelled?.finishedAt ?? '', ISO);

        await start(provision.id);
        const flagged = await store.requestCancel(provision.id);
        assert.deepEqual(
          { status: flagged?.status, cancelRequested: flagged?.cancelRequested, finishedAt: flagged?.finishedAt },
          { status: 'running', cancelRequested: true, finishedAt: null },
        );

        assert.equal(await store.requestCancel(preview.id), null);
        await assert.rejects(store.requestCancel(randomUUID()), NotFoundError);
      });

      it('starts an operation: running, attempts + 1, first start time kept, cluster status and lastOperationId set', async () => {
        const { cluster, operation } = await newCluster();
        const started = await start(operation.id);
        assert.equal(started.status, 'running');
        assert.equal(started.attempts, 1);
        assert.match(started.startedAt ?? '', ISO);
        let c = await store.getClusterById(cluster.id);
        assert.deepEqual(
          { status: c?.status, lastOperationId: c?.lastOperationId },
          { status: 'provisioning', lastOperationId: operation.id },
        );

        await sleep(5);
        const restarted = await start(operation.id);
        assert.equal(restarted.attempts, 2);
        assert.equal(restarted.startedAt, started.startedAt);

        const outputs = { endpoint: 'https://k8s.example' };
        const summary = { counts: { create: 3, update: 0, replace: 0, delete: 0, same: 0 }, resources: [] };
        const finished = await finish(operation.id, {
          status: 'succeeded',
          summary,
          outputs,
          error: null,
          cluster: { status: 'ready', appliedSpec: { nodes: 1 }, appliedGeneration: 1, outputs },
          stackClean: true,
        });
        assert.equal(finished.status, 'succeeded');
        assert.deepEqual(finished.summary, summary);
        assert.deepEqual(finished.outputs, outputs);
        assert.equal(finished.error, null);
        assert.match(finished.finishedAt ?? '', ISO);
        c = await store.getClusterById(cluster.id);
        assert.deepEqual(
          { status: c?.status, appliedSpec: c?.appliedSpec, appliedGeneration: c?.appliedGeneration, outputs: c?.outputs },
          { status: 'ready', appliedSpec: { nodes: 1 }, appliedGeneration: 1, outputs },
        );

        const update = (await changeSpec(store, cluster.id, { spec: { nodes: 2 } }, requestedBy)).operation;
        await start(update.id);
        assert.equal((await store.getClusterById(cluster.id))?.status, 'updating');
        const error = { code: 'resource-error' as const, title: 'node pool failed', detail: 'quota exceeded' };
        const failed = await finish(update.id, {
          status: 'failed',
          summary: null,
          outputs: null,
          error,
          cluster: { status: 'failed' },
          stackClean: true,
        });
        assert.deepEqual(failed.error, error);
        c = await store.getClusterById(cluster.id);
        assert.deepEqual(
          { status: c?.status, appliedGeneration: c?.appliedGeneration, generation: c?.generation },
          { status: 'failed', appliedGeneration: 1, generation: 2 },
        );

        const preview = await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy });
        await start(preview.id);
        c = await store.getClusterById(cluster.id);
        assert.deepEqual({ status: c?.status, lastOperationId: c?.lastOperationId }, { status: 'failed', lastOperationId: preview.id });
      });

      it('refuses to start or finish a terminal operation (ConflictError)', async () => {
        const { operation } = await newCluster();
        await store.requestCancel(operation.id);
        await assert.rejects(start(operation.id), (err: unknown) => {
          assert.ok(err instanceof ConflictError);
          assert.equal(err.message, `cannot start operation ${operation.id}: it is already cancelled`);
          return true;
        });
        await assert.rejects(finish(operation.id, succeededWith({})), ConflictError);
      });
    });

    describe('tokens', () => {
      it('stores a token by its hash, finds it, counts it, and refuses a duplicate hash', async () => {
        const before = await store.countTokens();
        const hash = `sha256:${randomUUID()}`;
        const token = await store.createToken({ name: 'ci', team: 'payments', role: 'member', hash, expiresAt: null });
        assert.match(token.id, UUID);
        assert.deepEqual(
          { ...token, createdAt: undefined },
          {
            id: token.id,
            name: 'ci',
            team: 'payments',
            role: 'member',
            state: 'active',
            createdAt: undefined,
            expiresAt: null,
            revokedAt: null,
            revokedBy: null,
          },
        );
        assert.deepEqual(await store.findTokenByHash(hash), token);
        assert.equal(await store.findTokenByHash(`sha256:${randomUUID()}`), null);
        const admin = await store.createToken({ name: 'root', team: null, role: 'admin', hash: `sha256:${randomUUID()}`, expiresAt: null });
        assert.equal(admin.role, 'admin');
        assert.equal(await store.countTokens(), before + 2);
        await assert.rejects(store.createToken({ name: 'dup', team: null, role: 'admin', hash, expiresAt: null }), ConflictError);
      });
    });

    describe('idempotency keys', () => {
      const principal = uniq('principal');

      it('claims a new key, answers in-flight while it runs, replays once complete, and detects a different request', async () => {
        const key = uniq('key');
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp-1', 60_000), { state: 'claimed' });
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp-1', 60_000), { state: 'in-flight' });
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp-2', 60_000), { state: 'mismatch' });
        const response = { statusCode: 202, body: { id: 'op-1', nested: [1, 2] }, headers: { location: '/v1/operations/op-1' } };
        await store.completeIdempotencyKey(principal, key, response);
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp-1', 60_000), { state: 'replay', ...response });
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp-2', 60_000), { state: 'mismatch' });
        await store.releaseIdempotencyKey(principal, key);
        assert.deepEqual(
          await store.claimIdempotencyKey(principal, key, 'fp-1', 60_000),
          { state: 'replay', ...response },
          'a done key is never released',
        );
        assert.deepEqual(
          await store.claimIdempotencyKey(uniq('other'), key, 'fp-2', 60_000),
          { state: 'claimed' },
          'keys are per principal',
        );
      });

      it('replays a string body as the same string', async () => {
        const key = uniq('key');
        await store.claimIdempotencyKey(principal, key, 'fp', 60_000);
        await store.completeIdempotencyKey(principal, key, { statusCode: 201, body: '{"a":1}', headers: {} });
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp', 60_000), {
          state: 'replay',
          statusCode: 201,
          body: '{"a":1}',
          headers: {},
        });
      });

      it('forgets a released claim so that the retry runs again', async () => {
        const key = uniq('key');
        await store.claimIdempotencyKey(principal, key, 'fp', 60_000);
        await store.releaseIdempotencyKey(principal, key);
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'fp', 60_000), { state: 'claimed' });
      });

      it('lets exactly one of several retries take over a stale in-flight claim', async () => {
        const key = uniq('key');
        await store.claimIdempotencyKey(principal, key, 'fp', 60_000);
        // Stale by an hour, so that no amount of load makes the claim a racer takes over look stale again.
        const [raw] = await backend.clients(1);
        await raw!.query(`UPDATE idempotency_keys SET updated_at = now() - interval '1 hour' WHERE principal_id = $1 AND key = $2`, [
          principal,
          key,
        ]);
        const halfHour = 30 * 60_000;
        assert.deepEqual(await store.claimIdempotencyKey(principal, key, 'other-fp', halfHour), { state: 'mismatch' });
        const claims = await Promise.all(Array.from({ length: 5 }, () => store.claimIdempotencyKey(principal, key, 'fp', halfHour)));
        assert.deepEqual(claims.map((c) => c.state).sort(), ['claimed', 'in-flight', 'in-flight', 'in-flight', 'in-flight']);
        assert.deepEqual(
          await store.claimIdempotencyKey(principal, key, 'fp', halfHour),
          { state: 'in-flight' },
          'the takeover refreshed the claim',
        );
      });
    });
  });
}

// Unmigrated: the suite migrates it, twice at once.
storeSuite('PGlite', () => pgliteBackend({ migrated: false }));
const databaseUrl = process.env.TEST_DATABASE_URL!;
storeSuite('PostgreSQL', () => postgresBackend(databaseUrl));

describe('openRecordStore', () => {
  it('opens PGlite under <dataDir>/records, migrated, and keeps records across reopening', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-open-'));
    try {
      let store: RecordStore = await openRecordStore({ dataDir });
      const { cluster } = await store.createCluster(
        { name: 'kept', team: 'payments', blueprint: 'kind', labels: {}, spec: {} },
        { kind: 'provision', requestedBy },
      );
      await store.close();
      store = await openRecordStore({ dataDir });
      assert.deepEqual(await store.getCluster('kept'), cluster);
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('opens PostgreSQL when a URL is given', async () => {
    const backend = await postgresBackend(databaseUrl);
    try {
      const [probe] = await backend.clients(1);
      const { rows } = await probe!.query<{ url: string }>('SELECT current_database() AS url');
      const url = new URL(databaseUrl);
      url.pathname = `/${rows[0]!.url}`;
      const store = await openRecordStore({ databaseUrl: url.toString(), dataDir: '/nonexistent' });
      assert.equal(await store.countTokens(), 0);
      await store.close();
    } finally {
      await backend.cleanup();
    }
  });
});
