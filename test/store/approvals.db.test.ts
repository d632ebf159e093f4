import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalDecision } from '../../src/domain/approval.js';
import { ConflictError } from '../../src/errors.js';
import { SqlApprovalStore } from '../../src/store/approval-store.js';
import { migrate } from '../../src/store/migrations.js';
import { SqlLaneStore } from '../../src/store/sql-lane-store.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { SqlTeamPolicyStore } from '../../src/store/team-policy-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';
import { changeSpec } from '../support/desired-spec.js';

const answer = (tokenId: string, decision: ApprovalDecision['decision'] = 'approved'): Omit<ApprovalDecision, 'at'> => ({
  decision,
  by: `token ${tokenId}`,
  tokenId,
  role: 'approver',
  comment: null,
});

/** The answers to operations awaiting approval: one outcome under races, and waits that end unanswered. */
function approvalSuite(label: string, openBackend: () => Promise<Backend>, connections: number): void {
  describe(`approvals over ${label}`, () => {
    let backend: Backend;
    let db: SqlClient;
    let records: SqlRecordStore;
    let approvals: SqlApprovalStore[];
    let lanes: SqlLaneStore;

    beforeAll(async () => {
      backend = await openBackend();
      const clients = await backend.clients(connections);
      db = clients[0]!;
      await migrate(db);
      records = new SqlRecordStore(db);
      lanes = new SqlLaneStore(db);
      approvals = clients.map((c) => new SqlApprovalStore(c));
    });
    afterAll(async () => backend.cleanup());

    /** A destroy of a fresh cluster under a rule that wants `approvers` approvals, planned and waiting for `ttlMs`. */
    async function awaitingDestroy(approvers: number, ttlMs = 60_000) {
      const team = `t-${randomUUID().slice(0, 8)}`;
      await new SqlTeamPolicyStore(db).setTeamPolicy(team, { approval: { kinds: ['destroy'], approvers } });
      const { cluster } = await records.createCluster(
        { name: `c-${randomUUID().slice(0, 8)}`, team, blueprint: 'eks', labels: {}, spec: {} },
        { kind: 'provision', requestedBy: 'alice', requestedByTokenId: randomUUID() },
      );
      const destroy = await records.enqueueOperation(cluster.id, {
        kind: 'destroy',
        requestedBy: 'alice',
        requestedByTokenId: randomUUID(),
      });
      expect(destroy.approval?.state).toBe('planning');
      const hold = (await lanes.acquire(cluster.id, `test-${randomUUID()}`, 60_000))!;
      await db.query(`UPDATE operations SET status = 'cancelled', finished_at = now() WHERE cluster_id = $1 AND kind = 'provision'`, [
        cluster.id,
      ]);
      await lanes.startOperation(hold, destroy.id);
      const waiting = await lanes.awaitApproval(
        hold,
        destroy.id,
        { summary: null, approval: { ...destroy.approval!, state: 'awaiting', reasons: ['kind:destroy'], plan: [] } },
        ttlMs,
      );
      await lanes.release(hold);
      return waiting;
    }

    it('binds an update by the labels its cluster had too: dropping a listed label in the same request frees nothing', async () => {
      const team = `t-${randomUUID().slice(0, 8)}`;
      await new SqlTeamPolicyStore(db).setTeamPolicy(team, { approval: { changes: ['delete'], labels: { env: 'prod' } } });
      const create = (labels: Record<string, string>) =>
        records.createCluster(
          { name: `c-${randomUUID().slice(0, 8)}`, team, blueprint: 'eks', labels, spec: {} },
          { kind: 'provision', requestedBy: 'alice' },
        );
      const update = (id: string, labels?: Record<string, string>) => changeSpec(records, id, { spec: { changed: true }, labels }, 'alice');

      const prod = (await create({ env: 'prod' })).cluster;
      expect((await update(prod.id, { env: 'dev' })).operation.approval?.state).toBe('planning');
      // Once it carries dev, the rule no longer binds it; a cluster made prod is bound from that request on.
      expect((await update(prod.id)).operation.approval).toBeNull();
      const dev = (await create({ env: 'dev' })).cluster;
      expect((await update(dev.id, { env: 'prod' })).operation.approval?.state).toBe('planning');
    });

    it('holds the operation awaiting approval, with a wait that ends after the time given', async () => {
      const waiting = await awaitingDestroy(1);
      expect(waiting.status).toBe('awaiting-approval');
      expect(Date.parse(waiting.approval!.expiresAt!) - Date.parse(waiting.approval!.requestedAt!)).toBe(60_000);
      expect((await records.pendingOperations(waiting.clusterId)).map((o) => o.id)).toEqual([waiting.id]);
    });

    it('lets exactly one of many racing approvals queue the operation, and refuses the rest', async () => {
      const waiting = await awaitingDestroy(1);
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => approvals[i % approvals.length]!.decide(waiting.id, answer(`t${i}`))),
      );
      const outcomes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.outcome] : []));
      expect(outcomes).toEqual(['approved']);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError)).toHaveLength(7);
      const op = await records.getOperation(waiting.id);
      expect([op!.status, op!.approval!.decisions.length]).toEqual(['queued', 1]);
    });

    it('counts distinct tokens: one token never gives two of the approvals needed', async () => {
      const waiting = await awaitingDestroy(2);
      expect((await approvals[0]!.decide(waiting.id, answer('a'))).outcome).toBe('recorded');
      await expect(approvals[0]!.decide(waiting.id, answer('a'))).rejects.toThrow(/answered already/);
      expect((await approvals[0]!.decide(waiting.id, answer('b'))).outcome).toBe('approved');
    });

    it('ends the operation failed on a rejection, with the outcome and webhook step in the outbox', async () => {
      const waiting = await awaitingDestroy(2);
      await approvals[0]!.decide(waiting.id, answer('a'));
      const { outcome, operation } = await approvals[0]!.decide(waiting.id, { ...answer('b', 'rejected'), comment: 'not today' });
      expect([outcome, operation.status, operation.error?.code, operation.error?.detail]).toEqual([
        'rejected',
        'failed',
        'approval-rejected',
        'not today',
      ]);
      const { rows } = await db.query<{ topic: string; subject: string }>('SELECT topic, subject FROM outbox WHERE subject LIKE $1', [
        `${waiting.id}%`,
      ]);
      expect(rows.map((r) => `${r.topic} ${r.subject.slice(36)}`).sort()).toEqual([
        'operation.approval :awaiting',
        'operation.approval :rejected',
        'operation.finished ',
      ]);
    });

    it('expires an unanswered wait once, whoever looks, and refuses a late answer', async () => {
      const waiting = await awaitingDestroy(1, 1);
      await new Promise((r) => setTimeout(r, 20));
      const late = await approvals[0]!.decide(waiting.id, answer('a'));
      expect([late.outcome, late.operation.status, late.operation.error?.code]).toEqual(['expired', 'failed', 'approval-expired']);
      const other = await awaitingDestroy(1, 1);
      await new Promise((r) => setTimeout(r, 20));
      const passes = await Promise.all(approvals.map((a) => a.expireDue()));
      expect(passes.flat().filter((o) => o.id === other.id)).toHaveLength(1);
      expect((await records.getOperation(other.id))!.approval!.state).toBe('expired');
      await expect(approvals[0]!.decide(other.id, answer('a'))).rejects.toThrow(/not awaiting approval/);
    });
  });
}

approvalSuite('PGlite', pgliteBackend, 1);
const databaseUrl = process.env.TEST_DATABASE_URL!;
approvalSuite('PostgreSQL', () => postgresBackend(databaseUrl), 5);
