/**
 * The fleet version views at fleet size: `GET /v1/fleet/versions` (the service function behind it)
 * and one pass of the support watch's reading, over 10,000 live EKS clusters in a real PostgreSQL
 * database of their own, with the database clock. Prints how long each takes and the memory it holds.
 *
 * Usage: npm run bench:versions   (FLEET=20000 for another size)
 */
import { builtInBlueprints, eksSpecSchema } from '../programs/index.js';
import type { Principal } from '../src/auth/principal.js';
import { BlueprintRegistry } from '../src/blueprints/registry.js';
import { databaseClock } from '../src/store/database-clock.js';
import { allClusters } from '../src/store/cluster-store.js';
import { migrate } from '../src/store/migrations.js';
import { SqlRecordStore } from '../src/store/sql-record-store.js';
import { clusterSupport } from '../src/versions/cluster-support.js';
import { fleetVersions } from '../src/versions/fleet-versions.js';
import { postgresBackend } from '../test/support/databases.js';
import { machineLine, median, ms } from './support.js';

const FLEET = Number(process.env.FLEET ?? 10_000);
const RUNS = 5;
const admin: Principal = { tokenId: 'bench', name: 'bench', team: null, admin: true, role: 'admin' };

async function main(): Promise<void> {
  console.log(machineLine('versions bench'));
  const backend = await postgresBackend(process.env.TEST_DATABASE_URL!);
  try {
    const [db] = await backend.clients(1);
    await migrate(db!);
    const store = new SqlRecordStore(db!);
    const blueprints = new BlueprintRegistry();
    for (const b of builtInBlueprints) blueprints.register(b);
    const versions = ['1.32', '1.33', '1.34', '1.35', '1.36'];
    // Specs as the blueprint stores them (defaults filled), a fifth of them on each version, 40 teams.
    const specs = versions.map((version) =>
      eksSpecSchema.parse({ region: 'eu-west-1', version, access: { teamRoleArn: 'arn:aws:iam::123456789012:role/team' } }),
    );
    const seeded = Date.now();
    await db!.query(
      `INSERT INTO clusters (id, name, team, blueprint, labels, spec, applied_spec, generation, applied_generation, status, node_capacity)
       SELECT gen_random_uuid(), 'c-' || i, 'team-' || (i % 40), 'eks', '{}', s.spec, s.spec, 1, 1, 'ready', 6
       FROM generate_series(1, $1) i JOIN (SELECT ordinality - 1 AS k, value AS spec FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY) s
         ON s.k = i % $3`,
      [FLEET, JSON.stringify(specs), specs.length],
    );
    console.log(`seeded ${FLEET} live eks clusters in ${ms(Date.now() - seeded)}`);
    const now = databaseClock(db!);

    const view = async (principal: Principal) => {
      const started = performance.now();
      const fleet = await fleetVersions({ clusters: store, blueprints, now }, principal, { horizonDays: 90, limit: 100 });
      return { ms: performance.now() - started, fleet };
    };
    const adminRuns = [];
    for (let i = 0; i < RUNS; i++) adminRuns.push(await view(admin));
    const team: Principal = { tokenId: 'bench-team', name: 'bench', team: 'team-7', admin: false, role: 'viewer' };
    const teamRuns = [];
    for (let i = 0; i < RUNS; i++) teamRuns.push(await view(team));
    const counts = adminRuns[0]!.fleet.counts.map((c) => `${c.version} ${c.status} ${c.clusters}`).join(', ');
    console.log(
      `GET /v1/fleet/versions, admin (all ${FLEET}): median ${ms(median(adminRuns.map((r) => r.ms)))} over ${RUNS} runs (${counts})`,
    );
    console.log(
      `GET /v1/fleet/versions, one team (${teamRuns[0]!.fleet.counts.reduce((n, c) => n + c.clusters, 0)} clusters): median ${ms(median(teamRuns.map((r) => r.ms)))}`,
    );

    // What one support-watch pass reads and works out, without the writes (none are due on a fresh fleet past its thresholds).
    const passes = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      const at = await now();
      let due = 0;
      for await (const c of allClusters(store, {})) {
        const support = clusterSupport(blueprints.get(c.blueprint), c, at);
        if (support && support.daysToEndOfStandardSupport <= 60) due += 1;
      }
      passes.push({ ms: performance.now() - started, due });
    }
    console.log(`support watch reading pass: median ${ms(median(passes.map((p) => p.ms)))} (${passes[0]!.due} clusters within 60 days)`);
    const heap = process.memoryUsage();
    console.log(
      `process after the runs: rss ${(heap.rss / 2 ** 20).toFixed(0)} MiB, heap used ${(heap.heapUsed / 2 ** 20).toFixed(0)} MiB`,
    );
  } finally {
    await backend.cleanup();
  }
}

await main();
