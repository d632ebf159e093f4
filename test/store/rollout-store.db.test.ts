import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError } from '../../src/errors.js';
import { migrate } from '../../src/store/migrations.js';
import type { NewRollout } from '../../src/store/rollout-store.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { SqlRolloutStore } from '../../src/store/sql-rollout-store.js';
import { SqlTeamPolicyStore } from '../../src/store/team-policy-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';

const uniq = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rolloutSuite(label: string, openBackend: () => Promise<Backend>): void {
  describe(`SqlRolloutStore over ${label}`, () => {
    let backend: Backend;
    let records: SqlRecordStore;
    let rollouts: SqlRolloutStore;
    let policies: SqlTeamPolicyStore;
    /** The same records through another connection, as another worker would reach them (PGlite has one). */
    let otherRollouts: SqlRolloutStore;

    beforeAll(async () => {
      backend = await openBackend();
      const [first, second = first] = await backend.clients(2);
      await migrate(first!);
      records = new SqlRecordStore(first!);
      rollouts = new SqlRolloutStore(first!);
      policies = new SqlTeamPolicyStore(first!);
      otherRollouts = new SqlRolloutStore(second!);
    });
    afterAll(() => backend.cleanup());

    async function newCluster() {
      const { cluster } = await records.createCluster(
        { name: uniq('c'), team: 'payments', blueprint: 'local-files', labels: {}, spec: { version: '1.30' } },
        { kind: 'provision', requestedBy: 'alice (team payments)' },
      );
      return cluster;
    }

    function newRollout(clusters: Array<{ id: string; name: string }>): NewRollout {
      return {
        name: uniq('r'),
        team: 'payments',
        requestedBy: 'alice (team payments)',
        mode: 'change',
        startedByTokenId: 'token-alice',
        selector: { blueprint: 'local-files', team: 'payments' },
        change: { upgrade: { version: '1.31' } },
        onInvalid: 'refuse',
        waitForCleanDriftCheck: false,
        stages: [{ name: 'all', maxConcurrency: 2, soakMs: 0, maxFailures: 0, approval: false }],
        excluded: [{ clusterName: 'left-out', reason: 'unstaged', issues: [] }],
        members: clusters.map((c) => ({
          clusterId: c.id,
          clusterName: c.name,
          team: 'payments',
          stage: 0,
          steps: [{ title: 'control plane to 1.31', patch: { version: '1.31' } }],
        })),
      };
    }

    it('records a rollout with its stages and members, and reads it back', async () => {
      const [a, b] = [await newCluster(), await newCluster()];
      const created = await rollouts.createRollout(newRollout([a, b]));
      expect(created).toMatchObject({
        status: 'pending',
        currentStage: 0,
        stages: [{ name: 'all', status: 'pending', soakUntil: null, approvedBy: null }],
        excluded: [{ clusterName: 'left-out', reason: 'unstaged' }],
        finishedAt: null,
      });
      expect(created.members.map((m) => [m.clusterName, m.state, m.stepsDone, m.operationIds])).toEqual([
        [a.name, 'pending', 0, []],
        [b.name, 'pending', 0, []],
      ]);
      expect(await rollouts.getRollout(created.id)).toEqual(created);
      expect(await rollouts.unfinishedRollouts()).toContain(created.id);
    });

    it('keeps a cluster in one unfinished rollout at a time, naming the one that holds it, even when two race', async () => {
      const shared = await newCluster();
      const first = await rollouts.createRollout(newRollout([shared]));
      await expect(rollouts.createRollout(newRollout([shared]))).rejects.toThrow(
        new ConflictError(
          `a cluster may be in one unfinished rollout at a time: "${shared.name}" is in rollout ${first.name} (${first.id})`,
        ),
      );
      // Once the first is over, the cluster is free.
      await rollouts.changeRollout(first.id, () => ({ status: 'succeeded', finished: true }));
      const raced = await newCluster();
      const results = await Promise.allSettled([
        rollouts.createRollout(newRollout([raced])),
        otherRollouts.createRollout(newRollout([raced])),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').map((r) => r.reason)).toEqual([expect.any(ConflictError)]);
    });

    it('lets one driver hold a rollout until its lease lapses, and refuses the writes of a driver that lost it', async () => {
      const cluster = await newCluster();
      const rollout = await rollouts.createRollout(newRollout([cluster]));
      expect(await rollouts.claimDriver(rollout.id, 'worker-a', 400)).toBe(true);
      expect(await otherRollouts.claimDriver(rollout.id, 'worker-b', 400)).toBe(false);
      expect(await rollouts.claimDriver(rollout.id, 'worker-a', 400)).toBe(true);
      await sleep(600);
      expect(await otherRollouts.claimDriver(rollout.id, 'worker-b', 60_000)).toBe(true);
      // worker-a's lease lapsed: its moves and changes write nothing.
      const step = () => ({ to: 'step' as const, spec: { version: '1.31' }, nodeCapacity: null, completedStep: false });
      expect(await rollouts.moveMember(rollout.id, 'worker-a', cluster.id, step)).toBeNull();
      const unchanged = await rollouts.changeRollout(rollout.id, () => ({ status: 'halted' }), 'worker-a');
      expect(unchanged.status).toBe('pending');
      expect((await rollouts.changeRollout(rollout.id, () => ({ status: 'running' }), 'worker-b')).status).toBe('running');
    });

    it("starts a member in one transaction: the cluster's new desired spec, its update named after the rollout, the member running", async () => {
      const cluster = await newCluster();
      const rollout = await rollouts.createRollout(newRollout([cluster]));
      expect(await rollouts.claimDriver(rollout.id, 'worker-a', 60_000)).toBe(true);
      let seen: unknown;
      const op = await rollouts.moveMember(rollout.id, 'worker-a', cluster.id, (r, m, c) => {
        seen = [r.status, m.state, c.spec];
        return { to: 'step', spec: { version: '1.31' }, nodeCapacity: null, completedStep: false };
      });
      expect(seen).toEqual(['pending', 'pending', { version: '1.30' }]);
      expect(op).toMatchObject({
        kind: 'update',
        status: 'queued',
        requestedBy: `rollout ${rollout.name} (${rollout.id})`,
        spec: { version: '1.31' },
      });
      expect((await records.getClusterById(cluster.id))?.spec).toEqual({ version: '1.31' });
      const member = (await rollouts.getRollout(rollout.id))!.members[0]!;
      expect(member).toMatchObject({ state: 'running', currentOperationId: op!.id, operationIds: [op!.id], attempts: 1, stepsDone: 0 });
      expect(member.startedAt).not.toBeNull();

      const ops = await rollouts.memberOperations([op!.id]);
      expect(ops.get(op!.id)).toEqual({
        id: op!.id,
        kind: 'update',
        status: 'queued',
        error: null,
        supersededBy: null,
        drift: null,
        summary: null,
      });
      // The move is on the rollout's stream, committed with it.
      const events = await rollouts.listEvents(rollout.id, 0, 100);
      expect(events.map((e) => [e.seq, e.type])).toEqual([
        [1, 'status'],
        [2, 'member'],
      ]);
      expect(events[1]!.data).toMatchObject({ cluster: cluster.name, state: 'running', operation: op!.id });

      await rollouts.moveMember(rollout.id, 'worker-a', cluster.id, () => ({ to: 'settled', state: 'succeeded', completedStep: true }));
      const settled = (await rollouts.getRollout(rollout.id))!.members[0]!;
      expect(settled).toMatchObject({ state: 'succeeded', stepsDone: 1, currentOperationId: null });
      expect(settled.finishedAt).not.toBeNull();
    });

    it("holds a step's growth to its team's node quota as it starts: one the team outgrew since fails its member, changing nothing", async () => {
      const team = uniq('team');
      const { cluster } = await records.createCluster(
        { name: uniq('c'), team, blueprint: 'local-files', labels: {}, spec: { version: '1.30' }, nodeCapacity: 3 },
        { kind: 'provision', requestedBy: 'alice' },
      );
      const rollout = await rollouts.createRollout(newRollout([cluster]));
      expect(await rollouts.claimDriver(rollout.id, 'worker-a', 60_000)).toBe(true);
      // Accepted when the team had room for the step's 3 more nodes; a person's request took it since.
      await policies.setTeamPolicy(team, { maxNodes: 8 });
      await records.createCluster(
        { name: uniq('c'), team, blueprint: 'local-files', labels: {}, spec: {}, nodeCapacity: 3 },
        { kind: 'provision', requestedBy: 'bob' },
      );
      const grow = () => ({ to: 'step' as const, spec: { version: '1.31' }, nodeCapacity: 6, completedStep: false });

      expect(await rollouts.moveMember(rollout.id, 'worker-a', cluster.id, grow)).toBeNull();
      const member = (await rollouts.getRollout(rollout.id))!.members[0]!;
      expect(member).toMatchObject({ state: 'failed', currentOperationId: null, operationIds: [] });
      expect(member.error).toEqual({ code: 'quota-exceeded', title: expect.stringContaining('its limit is 8') });
      expect(await records.getClusterById(cluster.id)).toMatchObject({ spec: { version: '1.30' }, generation: cluster.generation });
      expect(await policies.teamUsage(team)).toEqual({ clusters: 2, nodes: 6 });

      // Within the quota, the same step starts.
      await policies.setTeamPolicy(team, { maxNodes: 9 });
      await rollouts.changeRollout(rollout.id, () => ({ members: [{ clusterId: cluster.id, state: 'pending', clearError: true }] }));
      expect(await rollouts.moveMember(rollout.id, 'worker-a', cluster.id, grow)).toMatchObject({ kind: 'update' });
      expect(await policies.teamUsage(team)).toEqual({ clusters: 2, nodes: 9 });
    });
  });
}

rolloutSuite('PGlite', pgliteBackend);
const databaseUrl = process.env.TEST_DATABASE_URL!;
rolloutSuite('PostgreSQL', () => postgresBackend(databaseUrl));
