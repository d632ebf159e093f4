import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { ConflictError, InputError, LaneLostError, NotFoundError } from '../../src/errors.js';
import type { NewCluster } from '../../src/store/cluster-store.js';
import type { LaneHold, OperationOutcome } from '../../src/store/lane-store.js';
import { migrate } from '../../src/store/migrations.js';
import { SqlLaneStore } from '../../src/store/sql-lane-store.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';
import { changeSpec } from '../support/desired-spec.js';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const requestedBy = 'alice (team payments)';
const outcome = (over: Partial<OperationOutcome> = {}): OperationOutcome => ({
  status: 'succeeded',
  summary: null,
  outputs: null,
  error: null,
  cluster: { status: 'ready' },
  stackClean: true,
  ...over,
});

function laneSuite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`SqlLaneStore over ${label}`, () => {
    let backend: Backend;
    let store: SqlRecordStore;
    let lanes: SqlLaneStore;
    /** A second store on its own connection, as another worker process would have (PGlite has one). */
    let otherLanes: SqlLaneStore;

    beforeAll(async () => {
      backend = await openBackend();
      const [first, second = first] = await backend.clients(2);
      await migrate(first!);
      store = new SqlRecordStore(first!);
      lanes = new SqlLaneStore(first!);
      otherLanes = new SqlLaneStore(second!);
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
    async function take(clusterId: string, leaseMs = 60_000): Promise<LaneHold> {
      const hold = await lanes.acquire(clusterId, uniq('worker'), leaseMs);
      assert.ok(hold, 'the lane is free');
      return hold;
    }
    const needsRecovery = async (clusterId: string) => {
      const { rows } = await (
        await backend.clients(1)
      )[0]!.query<{ needs_recovery: boolean }>('SELECT needs_recovery FROM clusters WHERE id = $1', [clusterId]);
      return rows[0]?.needs_recovery;
    };

    describe('holding the lane', () => {
      it('gives the lane to one holder at a time, with an epoch that grows with every take', async () => {
        const { cluster } = await newCluster();
        assert.equal(await lanes.expiresAt(cluster.id), null);
        const t0 = Date.now();
        const a = await lanes.acquire(cluster.id, 'worker-a', 60_000);
        assert.ok(a);
        assert.equal(a.epoch, 1);
        const expires = await lanes.expiresAt(cluster.id);
        // Database and test share a host clock; a second of slack covers rounding and latency.
        assert.ok(expires && Math.abs(expires.getTime() - (t0 + 60_000)) < 1000, `lease ends ${expires?.toISOString()}`);
        // What a job waiting for the lane waits for: the time left by the database's clock, whatever this process's clock says.
        const left = await lanes.leaseLeftMs(cluster.id);
        assert.ok(left !== null && left > 50_000 && left <= 60_000, `lease left ${left} ms`);
        assert.equal(await otherLanes.acquire(cluster.id, 'worker-b', 60_000), null);
        assert.equal(await lanes.acquire(cluster.id, 'worker-a', 60_000), null, 'not even the same owner string takes a live lease twice');
        assert.equal(await lanes.renew({ ...a, owner: 'worker-b' }, 60_000), false);
        assert.equal(await lanes.renew(a, 120_000), true);
        assert.ok((await lanes.expiresAt(cluster.id))!.getTime() > expires.getTime() + 50_000);
        await lanes.release({ ...a, epoch: a.epoch + 1 });
        assert.equal(await otherLanes.acquire(cluster.id, 'worker-b', 60_000), null, 'a release under a wrong epoch frees nothing');
        await lanes.release(a);
        assert.equal(await lanes.expiresAt(cluster.id), null);
        assert.equal(await lanes.leaseLeftMs(cluster.id), null);
        const b = await otherLanes.acquire(cluster.id, 'worker-b', 60_000);
        assert.equal(b?.epoch, 2);
        assert.equal(await lanes.acquire(randomUUID(), 'worker-a', 60_000), null);
        await assert.rejects(lanes.acquire(cluster.id, 'worker-a', 0), InputError);
      });

      it('lets another holder take a lapsed lease, after which every write of the old holder is refused', async () => {
        const { cluster, operation } = await newCluster();
        const stale = await take(cluster.id);
        await lanes.startOperation(stale, operation.id);
        // Shortened only once the start is in: a lease of 50 ms from the take lapsed before the start on a loaded machine.
        await lanes.renew(stale, 1);
        await sleep(150);
        assert.equal(await lanes.expiresAt(cluster.id), null);
        const current = await otherLanes.acquire(cluster.id, 'worker-b', 60_000);
        assert.ok(current && current.epoch === stale.epoch + 1);

        assert.equal(await lanes.renew(stale, 60_000), false);
        const refused = (err: unknown) => err instanceof LaneLostError && /taken over/.test(err.message);
        await assert.rejects(lanes.appendEvents(stale, operation.id, [{ type: 'log', data: 'late' }]), refused);
        await assert.rejects(lanes.finishOperation(stale, operation.id, outcome()), refused);
        await assert.rejects(lanes.requeueOperation(stale, operation.id), refused);
        await assert.rejects(lanes.setClusterStatus(stale, 'failed'), refused);
        await assert.rejects(lanes.supersede(stale, [operation.id], operation.id), refused);
        await assert.rejects(lanes.startOperation(stale, operation.id), refused);
        await lanes.release(stale);
        assert.ok(await lanes.expiresAt(cluster.id), 'the stale release freed nothing');

        const op = await store.getOperation(operation.id);
        assert.deepEqual({ status: op?.status, attempts: op?.attempts }, { status: 'running', attempts: 1 });
        assert.deepEqual(await store.listEvents(operation.id, 0, 10), []);
        assert.equal((await store.getClusterById(cluster.id))?.status, 'provisioning');
      });

      it('keeps a lapsed hold current until someone takes the lane, but starts nothing under it', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id, 50);
        await sleep(150);
        await assert.rejects(
          lanes.startOperation(hold, operation.id),
          (err: unknown) => err instanceof LaneLostError && /lapsed/.test(err.message),
        );
        assert.equal(await lanes.renew(hold, 60_000), true, 'nobody took it meanwhile: nobody else ran');
        assert.equal((await lanes.startOperation(hold, operation.id)).operation.status, 'running');
      });

      it('lets exactly one of many racing takers have a lapsed lane', async () => {
        const { cluster } = await newCluster();
        await take(cluster.id, 30);
        await sleep(100);
        const holds = await Promise.all(
          Array.from({ length: 12 }, (_, i) => (i % 2 ? otherLanes : lanes).acquire(cluster.id, uniq('racer'), 60_000)),
        );
        assert.equal(holds.filter(Boolean).length, 1);
      });
    });

    describe('starting operations', () => {
      it('starts a queued operation once per hold; a later holder restarts an attempt left running', async () => {
        const { cluster, operation } = await newCluster();
        const first = await take(cluster.id);
        const started = await lanes.startOperation(first, operation.id);
        assert.deepEqual(
          { status: started.operation.status, attempts: started.operation.attempts, recover: started.recover },
          { status: 'running', attempts: 1, recover: false },
        );
        assert.match(started.operation.startedAt ?? '', ISO);
        await assert.rejects(
          lanes.startOperation(first, operation.id),
          (err: unknown) =>
            err instanceof ConflictError && !(err instanceof LaneLostError) && /already running under this lane hold/.test(err.message),
        );

        // The first holder's lease lapses only now, whatever the machine's load made the steps above take.
        await lanes.renew(first, 1);
        await sleep(150);
        const second = await take(cluster.id);
        const again = await lanes.startOperation(second, operation.id);
        assert.equal(again.operation.attempts, 2);
        assert.equal(again.operation.startedAt, started.operation.startedAt);
        assert.equal(again.recover, true, 'the interrupted provision may have left a lock');
      });

      it("refuses to start a finished, unknown or other cluster's operation", async () => {
        const { cluster, operation } = await newCluster();
        const other = await newCluster();
        const hold = await take(cluster.id);
        await store.requestCancel(operation.id);
        await assert.rejects(lanes.startOperation(hold, operation.id), (err: unknown) => {
          assert.ok(err instanceof ConflictError && !(err instanceof LaneLostError));
          assert.equal(err.message, `cannot start operation ${operation.id}: it is already cancelled`);
          return true;
        });
        await assert.rejects(lanes.startOperation(hold, randomUUID()), NotFoundError);
        await assert.rejects(lanes.startOperation(hold, other.operation.id), NotFoundError);
        assert.equal((await store.getOperation(other.operation.id))?.status, 'queued');
      });
    });

    describe('the recovery mark', () => {
      it('is set by a mutating start, kept by an unclean end, and cleared only by a clean one', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id);
        assert.equal((await lanes.startOperation(hold, operation.id)).recover, false);
        assert.equal(await needsRecovery(cluster.id), true, 'set while the provision runs');
        const killed = { code: 'engine-killed' as const, title: 'killed', detail: 'killed' };
        await lanes.finishOperation(
          hold,
          operation.id,
          outcome({ status: 'cancelled', error: killed, cluster: { status: 'failed' }, stackClean: false }),
        );
        assert.equal(await needsRecovery(cluster.id), true);

        // More queued work than any history window, read-only first: the mark does not move.
        const previews = [];
        for (let i = 0; i < 12; i++) previews.push(await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy }));
        const p0 = await lanes.startOperation(hold, previews[0]!.id);
        assert.equal(p0.recover, true, 'the first run after the kill recovers, whatever its kind');
        await lanes.finishOperation(hold, p0.operation.id, outcome({ cluster: {}, stackClean: false }));
        assert.equal(await needsRecovery(cluster.id), true, 'an unclean read-only end keeps it');
        const p1 = await lanes.startOperation(hold, previews[1]!.id);
        assert.equal(p1.recover, true);
        await lanes.finishOperation(hold, p1.operation.id, outcome({ cluster: {} }));
        assert.equal(await needsRecovery(cluster.id), false, 'a clean end after recovering clears it');
        const p2 = await lanes.startOperation(hold, previews[2]!.id);
        assert.equal(p2.recover, false);
        assert.equal(await needsRecovery(cluster.id), false, 'a read-only start does not set it');
      });
    });

    describe('operations under a hold', () => {
      it('requeues a running operation, keeping its attempts and first start time', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id);
        const { operation: started } = await lanes.startOperation(hold, operation.id);
        await lanes.requeueOperation(hold, operation.id);
        const requeued = await store.getOperation(operation.id);
        assert.deepEqual(
          { status: requeued?.status, attempts: requeued?.attempts, startedAt: requeued?.startedAt },
          { status: 'queued', attempts: 1, startedAt: started.startedAt },
        );
        await assert.rejects(lanes.requeueOperation(hold, randomUUID()), NotFoundError);
      });

      it('finishes an operation with its outcome on the cluster, once', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id);
        await lanes.startOperation(hold, operation.id);
        const outputs = { endpoint: 'https://k8s.example' };
        const finished = await lanes.finishOperation(
          hold,
          operation.id,
          outcome({ outputs, cluster: { status: 'ready', appliedSpec: { nodes: 1 }, appliedGeneration: 1, outputs } }),
        );
        assert.deepEqual({ status: finished.status, outputs: finished.outputs }, { status: 'succeeded', outputs });
        assert.match(finished.finishedAt ?? '', ISO);
        const c = await store.getClusterById(cluster.id);
        assert.deepEqual(
          { status: c?.status, appliedGeneration: c?.appliedGeneration, outputs: c?.outputs },
          { status: 'ready', appliedGeneration: 1, outputs },
        );
        await assert.rejects(
          lanes.finishOperation(hold, operation.id, outcome()),
          (err: unknown) => err instanceof ConflictError && /already succeeded/.test(err.message),
        );
      });

      it('sets a cluster status directly; destroyed frees the name', async () => {
        const { cluster } = await newCluster();
        const hold = await take(cluster.id);
        await lanes.setClusterStatus(hold, 'failed');
        assert.equal((await store.getClusterById(cluster.id))?.status, 'failed');
        await lanes.setClusterStatus(hold, 'destroyed');
        await newCluster({ name: cluster.name });
      });

      it('supersedes only the operations still queued', async () => {
        const { cluster, operation: provision } = await newCluster();
        const hold = await take(cluster.id);
        await lanes.startOperation(hold, provision.id);
        const ops = [];
        for (const nodes of [2, 3, 4]) ops.push((await changeSpec(store, cluster.id, { spec: { nodes } }, requestedBy)).operation);
        const [u2, u3, u4] = ops as [typeof provision, typeof provision, typeof provision];
        await lanes.supersede(hold, [u2.id, u3.id, provision.id], u4.id);
        for (const id of [u2.id, u3.id]) {
          const op = await store.getOperation(id);
          assert.deepEqual({ status: op?.status, supersededBy: op?.supersededBy }, { status: 'superseded', supersededBy: u4.id });
          assert.match(op?.finishedAt ?? '', ISO);
        }
        const running = await store.getOperation(provision.id);
        assert.deepEqual({ status: running?.status, supersededBy: running?.supersededBy }, { status: 'running', supersededBy: null });
        assert.deepEqual(
          (await store.pendingOperations(cluster.id)).map((o) => o.id),
          [provision.id, u4.id],
        );
        await lanes.supersede(hold, [], u4.id);
      });

      it('reports clusters with queued work, or running work whose lane is free or lapsed', async () => {
        const { cluster, operation } = await newCluster();
        const needing = async () => (await store.clustersNeedingWork()).filter((id) => id === cluster.id).length;
        assert.equal(await needing(), 1);
        const preview = await store.enqueueOperation(cluster.id, { kind: 'preview', requestedBy });
        assert.equal(await needing(), 1, 'listed once however many operations it has');
        const hold = await take(cluster.id);
        await lanes.startOperation(hold, operation.id);
        assert.equal(await needing(), 1, 'the preview is still queued');
        await store.requestCancel(preview.id);
        assert.equal(await needing(), 0, 'running under a live lease');
        await lanes.release(hold);
        assert.equal(await needing(), 1, 'running with no lane holder');
        const short = await take(cluster.id, 50);
        await sleep(150);
        assert.equal(await needing(), 1, 'running under a lapsed lease');
        await lanes.renew(short, 60_000);
        await lanes.finishOperation(short, operation.id, outcome());
        assert.equal(await needing(), 0);
      });
    });

    describe('events', () => {
      it('numbers 20 concurrent single appends 1..20 with no gap or duplicate', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id);
        const lasts = await Promise.all(
          Array.from({ length: 20 }, (_, i) => lanes.appendEvents(hold, operation.id, [{ type: 'log', data: { i } }])),
        );
        assert.deepEqual(
          [...lasts].sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        const events = await store.listEvents(operation.id, 0, 100);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        assert.ok(events.every((e) => e.operationId === operation.id && e.type === 'log' && ISO.test(e.at)));
      });

      it('keeps each concurrent batch contiguous and in order', async () => {
        const { cluster, operation } = await newCluster();
        const hold = await take(cluster.id);
        await Promise.all(
          Array.from({ length: 10 }, (_, b) =>
            lanes.appendEvents(
              hold,
              operation.id,
              [0, 1, 2].map((k) => ({ type: 'engine' as const, data: { b, k } })),
            ),
          ),
        );
        const events = await store.listEvents(operation.id, 0, 100);
        assert.deepEqual(
          events.map((e) => e.seq),
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
        for (let i = 0; i < 30; i += 3) {
          const batch = events.slice(i, i + 3).map((e) => e.data as { b: number; k: number });
          assert.deepEqual(
            batch.map((d) => d.k),
            [0, 1, 2],
          );
          assert.equal(new Set(batch.map((d) => d.b)).size, 1);
        }
      });

      it("lists events after a seq with a limit, stores undefined data as null, and rejects another cluster's operations", async () => {
        const { cluster, operation } = await newCluster();
        const other = await newCluster();
        const hold = await take(cluster.id);
        assert.equal(await lanes.appendEvents(hold, operation.id, []), 0);
        await lanes.appendEvents(hold, operation.id, [
          { type: 'status', data: { status: 'running' } },
          { type: 'log', data: 'line one' },
          { type: 'log', data: undefined },
        ]);
        assert.equal(await lanes.appendEvents(hold, operation.id, []), 3);
        const tail = await store.listEvents(operation.id, 1, 1);
        assert.deepEqual(
          tail.map(({ seq, type, data }) => ({ seq, type, data })),
          [{ seq: 2, type: 'log', data: 'line one' }],
        );
        assert.deepEqual(
          (await store.listEvents(operation.id, 2, 10)).map((e) => e.data),
          [null],
        );
        await assert.rejects(lanes.appendEvents(hold, randomUUID(), [{ type: 'log', data: 'x' }]), NotFoundError);
        await assert.rejects(lanes.appendEvents(hold, other.operation.id, [{ type: 'log', data: 'x' }]), NotFoundError);
      });
    });
  });
}

laneSuite('PGlite', pgliteBackend);
const databaseUrl = process.env.TEST_DATABASE_URL!;
laneSuite('PostgreSQL', () => postgresBackend(databaseUrl));
