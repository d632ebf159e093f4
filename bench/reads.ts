/**
 * Fleet-sized reads: 10,000 clusters (9,000 live), 200,000 operations and 30,000 drift reports in
 * a PostgreSQL database of their own, then the store reads behind `GET /v1/clusters` (filters),
 * `GET /v1/drift` and `GET /v1/clusters/{name}/operations`: the median time of each, and whether
 * its plan reads a table whole (a sequential scan) instead of an index.
 *
 * Usage: npm run bench:reads   (CLUSTERS=20000 OPERATIONS=400000 for another size)
 */
import { migrate } from '../src/store/migrations.js';
import type { SqlClient } from '../src/store/sql.js';
import { SqlDriftStore } from '../src/store/sql-drift-store.js';
import { SqlRecordStore } from '../src/store/sql-record-store.js';
import { postgresBackend } from '../test/support/databases.js';
import { machineLine, median, ms, pct } from './support.js';

const CLUSTERS = Number(process.env.CLUSTERS ?? 10_000);
const OPERATIONS = Number(process.env.OPERATIONS ?? 200_000);
/** Enough runs of each read for a p99. */
const RUNS = 100;

/** Seeds the records with plain SQL: what matters here is their number and shape, not how they were made. */
async function seed(db: SqlClient): Promise<void> {
  await db.query(
    `INSERT INTO clusters (id, name, team, blueprint, labels, spec, applied_spec, generation, applied_generation, status, destroyed_at)
     SELECT gen_random_uuid(), 'c-' || lpad(i::text, 6, '0'), 'team-' || (i % 50), CASE WHEN i % 3 = 0 THEN 'gke' ELSE 'eks' END,
            jsonb_build_object('env', CASE WHEN i % 100 = 0 THEN 'prod' ELSE 'dev' END, 'tier', 't' || (i % 7)),
            '{"version": "1.35"}', '{"version": "1.35"}', 1, 1,
            CASE WHEN i % 10 = 0 THEN 'destroyed' WHEN i % 97 = 0 THEN 'failed' ELSE 'ready' END,
            CASE WHEN i % 10 = 0 THEN now() ELSE NULL END
     FROM generate_series(1, $1) i`,
    [CLUSTERS],
  );
  await db.query(
    `INSERT INTO operations (id, cluster_id, kind, status, spec, generation, requested_by, queued_at, finished_at)
     SELECT gen_random_uuid(), c.id, 'update', 'succeeded', '{}', 1, 'bench', now() - (g || ' minutes')::interval, now()
     FROM (SELECT id, row_number() OVER (ORDER BY name) AS n FROM clusters) c
     JOIN generate_series(1, $1) g ON g % $2 = c.n % $2`,
    [OPERATIONS, CLUSTERS],
  );
  await db.query(
    `INSERT INTO drift_reports (id, cluster_id, operation_id, checked_at, status)
     SELECT gen_random_uuid(), o.cluster_id, o.id, o.queued_at, CASE WHEN o.seq % 5 = 0 THEN 'drifted' ELSE 'clean' END
     FROM operations o WHERE o.seq % 7 = 0`,
  );
  // As autovacuum leaves them after such a load (statistics, visibility map), and not busy doing so while the reads are timed.
  await db.query('VACUUM ANALYZE');
}

async function main(): Promise<void> {
  console.log(machineLine('reads bench'));
  const backend = await postgresBackend(process.env.TEST_DATABASE_URL!);
  try {
    const [db] = await backend.clients(1);
    await migrate(db!);
    const started = Date.now();
    await seed(db!);
    const counts = (
      await db!.query<{ c: number; o: number; d: number }>(
        'SELECT (SELECT count(*) FROM clusters)::int AS c, (SELECT count(*) FROM operations)::int AS o, (SELECT count(*) FROM drift_reports)::int AS d',
      )
    ).rows[0]!;
    console.log(`seeded ${counts.c} clusters, ${counts.o} operations, ${counts.d} drift reports in ${ms(Date.now() - started)}`);
    const store = new SqlRecordStore(db!);
    const drift = new SqlDriftStore(db!);
    const busy = (await store.listClusters({ limit: 1, team: 'team-7' })).items[0]!;
    const deep = (await store.listOperations(busy.id, 50)).nextCursor;

    const reads: Array<[string, () => Promise<unknown>]> = [
      ['GET /v1/clusters (first page of 50)', () => store.listClusters({ limit: 50 })],
      ['GET /v1/clusters?team=team-7', () => store.listClusters({ limit: 50, team: 'team-7' })],
      ['GET /v1/clusters?blueprint=gke&status=failed', () => store.listClusters({ limit: 50, blueprint: 'gke', status: 'failed' })],
      ['GET /v1/clusters?label=env=prod', () => store.listClusters({ limit: 50, labels: { env: 'prod' } })],
      ['GET /v1/clusters/{name}/operations', () => store.listOperations(busy.id, 50)],
      ['GET /v1/clusters/{name}/operations (second page)', () => store.listOperations(busy.id, 50, deep ?? undefined)],
      ['GET /v1/drift (every team)', () => drift.fleetSummary()],
      ['GET /v1/drift?team=team-7', () => drift.fleetSummary('team-7')],
    ];
    // Sequential scans seen while the reads run, per table: what pg_stat counts, not a guess from EXPLAIN.
    // A backend holds its counts back for up to 10 s (PostgreSQL 15+); forcing its next flush puts every
    // scan into the window of the read that made it (the pool hands these sequential reads one connection).
    const scans = async () => {
      await db!.query('SELECT pg_stat_force_next_flush()');
      return new Map(
        (
          await db!.query<{ relname: string; seq_scan: number }>(
            `SELECT relname, seq_scan::int FROM pg_stat_user_tables WHERE relname IN ('clusters', 'operations', 'drift_reports')`,
          )
        ).rows.map((r) => [r.relname, r.seq_scan]),
      );
    };
    for (const [name, read] of reads) {
      await read();
      const before = await scans();
      const times: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await read();
        times.push(performance.now() - t);
      }
      const after = await scans();
      const seq = [...after].filter(([t, n]) => n > (before.get(t) ?? 0)).map(([t]) => t);
      console.log(
        `${name.padEnd(52)} median ${ms(median(times)).padStart(10)}, p99 ${ms(pct(times, 99)).padStart(10)}   ${seq.length ? `sequential scan of ${seq.join(', ')}` : 'indexes only'}`,
      );
    }
  } finally {
    await backend.cleanup();
  }
}

await main();
