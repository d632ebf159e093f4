import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyError } from '../../src/errors.js';
import { migrate } from '../../src/store/migrations.js';
import type { SqlClient } from '../../src/store/sql.js';
import { SqlRecordStore } from '../../src/store/sql-record-store.js';
import { lockTeam, SqlTeamPolicyStore } from '../../src/store/team-policy-store.js';
import { pgliteBackend, postgresBackend, type Backend } from '../support/databases.js';
import { changeSpec } from '../support/desired-spec.js';

const requestedBy = 'alice (team payments)';

function quotaSuite(label: string, openBackend: () => Promise<Backend>, connections: number): void {
  describe(`team quotas over ${label}`, () => {
    let backend: Backend;
    let stores: SqlRecordStore[];
    let policies: SqlTeamPolicyStore;
    let clients: SqlClient[];

    beforeAll(async () => {
      backend = await openBackend();
      clients = await backend.clients(connections);
      await migrate(clients[0]!);
      stores = clients.map((c) => new SqlRecordStore(c));
      policies = new SqlTeamPolicyStore(clients[0]!);
    });
    afterAll(async () => backend.cleanup());

    const team = () => `t-${randomUUID().slice(0, 8)}`;
    const create = (store: SqlRecordStore, t: string, nodeCapacity: number, name = `c-${randomUUID().slice(0, 8)}`) =>
      store.createCluster({ name, team: t, blueprint: 'eks', labels: {}, spec: {}, nodeCapacity }, { kind: 'provision', requestedBy });
    const rule = (err: unknown) =>
      err instanceof PolicyError ? err.issues.map((i) => `${i.rule}:${i.limit}/${i.usage}`).join() : String(err);

    it('accepts exactly as many clusters as the limit when requests race for the last places', async () => {
      const t = team();
      await policies.setTeamPolicy(t, { maxClusters: 3 });
      await create(stores[0]!, t, 1);
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => create(stores[i % stores.length]!, t, 1)));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      const refusals = results.flatMap((r) => (r.status === 'rejected' ? [rule(r.reason)] : []));
      expect(new Set(refusals)).toEqual(new Set(['quota.maxClusters:3/3']));
      expect(await policies.teamUsage(t)).toEqual({ clusters: 3, nodes: 3 });
    });

    it.runIf(connections >= 3)(
      "runs a team's creates side by side while it has no quota, and sets a quota only once those under way are recorded",
      async () => {
        const t = team();
        const within = <T>(ms: number, p: Promise<T>) =>
          Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms))]);
        // A create under way, held open by hand between taking the team's lock and its commit.
        let release!: () => void;
        let taken!: () => void;
        const lockTaken = new Promise<void>((r) => (taken = r));
        const underWay = clients[1]!.transaction(async (tx) => {
          await lockTeam(tx, t);
          taken();
          await new Promise<void>((r) => (release = r));
          await tx.query(
            `INSERT INTO clusters (id, name, team, blueprint, labels, spec, generation, status, node_capacity)
            VALUES (gen_random_uuid(), 'held-open', $1, 'eks', '{}', '{}', 1, 'provisioning', 1)`,
            [t],
          );
        });
        await lockTaken;
        await within(5000, create(stores[2]!, t, 1));
        let set = false;
        const setting = new SqlTeamPolicyStore(clients[3 % connections]!).setTeamPolicy(t, { maxClusters: 3 }).then(() => (set = true));
        await new Promise((r) => setTimeout(r, 300));
        expect(set).toBe(false);
        release();
        await underWay;
        await setting;
        // The quota counts the create that was under way: exactly one place is left.
        const results = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => create(stores[i % stores.length]!, t, 1)));
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await policies.teamUsage(t)).toEqual({ clusters: 3, nodes: 3 });
      },
    );

    it("holds node capacity to maxNodes across the team's clusters, growth by growth", async () => {
      const t = team();
      await policies.setTeamPolicy(t, { maxNodes: 10 });
      const { cluster } = await create(stores[0]!, t, 6);
      await expect(create(stores[0]!, t, 5)).rejects.toSatisfy((e) => rule(e) === 'quota.maxNodes:10/6');
      // Racing growths of one cluster: each is decided after the one before it commits.
      const grow = (n: number) => changeSpec(stores[n % stores.length]!, cluster.id, { spec: { n }, nodeCapacity: 6 + n }, requestedBy);
      const results = await Promise.allSettled([1, 2, 3, 4, 5].map(grow));
      expect((await policies.teamUsage(t)).nodes).toBeLessThanOrEqual(10);
      expect(results.some((r) => r.status === 'rejected')).toBe(true);
    });

    it('refuses new growth, and nothing else, once a limit is lowered below the usage', async () => {
      const t = team();
      const { cluster } = await create(stores[0]!, t, 8);
      await create(stores[0]!, t, 8);
      await policies.setTeamPolicy(t, { maxClusters: 1, maxNodes: 4 });
      expect(await policies.teamUsage(t)).toEqual({ clusters: 2, nodes: 16 });
      await expect(create(stores[0]!, t, 0)).rejects.toSatisfy((e) => rule(e) === 'quota.maxClusters:1/2');
      const update = (capacity: number) => changeSpec(stores[0]!, cluster.id, { spec: { capacity }, nodeCapacity: capacity }, requestedBy);
      await expect(update(9)).rejects.toSatisfy((e) => rule(e) === 'quota.maxNodes:4/16');
      // Shrinking, or a change that keeps the size, goes through.
      await update(8);
      await update(3);
      expect(await policies.teamUsage(t)).toEqual({ clusters: 2, nodes: 11 });
      // Another team is not held to it.
      await create(stores[0]!, team(), 100);
    });
  });
}

quotaSuite('PGlite', pgliteBackend, 1);
const databaseUrl = process.env.TEST_DATABASE_URL!;
quotaSuite('PostgreSQL', () => postgresBackend(databaseUrl), 5);
