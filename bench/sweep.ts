/**
 * Fleet drift sweeps over BENCH_SWEEP_FLEET local-files clusters (provisioned once, reused by every
 * run), at 1, 2 and 4 checks at once. Prints, measured in one run on this machine:
 *  1. clusters checked per minute through the service: POST /v1/drift/sweeps with
 *     DRIFT_MAX_CONCURRENT_CHECKS = c, workers as separate OS processes with WORKER_CONCURRENCY = c + 1,
 *     timed by the sweep's own record (startedAt -> finishedAt);
 *  2. clusters per minute for the same checks run directly with the Automation API in this process
 *     (selectStack, previewRefresh, preview, c at once), and the ratio service/direct;
 *  3. the peak total RSS of the worker process trees (worker, its per-operation children, the Pulumi
 *     CLI and plugins) during each sweep, sampled every 200 ms.
 * Needs TEST_DATABASE_URL (worker processes share the records): `npm run bench:sweep` provides it.
 */
import type { ChildProcess } from 'node:child_process';
import { Queue } from 'bullmq';
import { OPERATIONS_QUEUE, SWEEPS_QUEUE } from '../queue/names.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { startService } from '../src/main.js';
import { closeRedis, connectRedis } from '../src/redis.js';
import { localSpec, redisUrl, startHarness, type Harness } from '../test/support/harness.js';
import { directStack, machineLine } from './support.js';
import { sampleTreeRss } from './tree-rss.js';

const FLEET = Number(process.env.BENCH_SWEEP_FLEET ?? 12);
const CONCURRENCY = (process.env.BENCH_SWEEP_CONCURRENCY ?? '1,2,4').split(',').map(Number);
const WORKERS = Number(process.env.BENCH_SWEEP_WORKERS ?? 1);
// The service's own default unless DRIFT_SWEEP_POLL_MS is set: how often a sweep looks at its checks.
const POLL_MS = loadConfig({ DRIFT_SWEEP_POLL_MS: process.env.DRIFT_SWEEP_POLL_MS }).DRIFT_SWEEP_POLL_MS;
const SAMPLE_MS = 200;
const MIB = 1024 * 1024;

const clusterNames = Array.from({ length: FLEET }, (_, i) => `sweep-${String(i).padStart(3, '0')}`);
const sleep = (msecs: number) => new Promise((r) => setTimeout(r, msecs));

interface Row {
  concurrency: number;
  servicePerMin: number;
  directPerMin: number;
  peakRssMiB: number;
  idleRssMiB: number;
}

/** Spawns the worker processes and returns once each listens on the operations and sweeps queues. */
async function startWorkers(h: Harness, env: Record<string, string>): Promise<ChildProcess[]> {
  const workers: ChildProcess[] = [];
  for (let i = 0; i < WORKERS; i++) workers.push(await h.spawnWorker(env));
  const connection = connectRedis(redisUrl());
  const queues = [OPERATIONS_QUEUE, SWEEPS_QUEUE].map((name) => new Queue(name, { connection, prefix: h.env.QUEUE_PREFIX }));
  try {
    const deadline = Date.now() + 60_000;
    while (!(await Promise.all(queues.map((q) => q.getWorkersCount()))).every((n) => n >= WORKERS)) {
      if (Date.now() > deadline) throw new Error(`${WORKERS} worker process(es) did not start listening within 60 s`);
      await sleep(100);
    }
  } finally {
    await Promise.all(queues.map((q) => q.close()));
    await closeRedis(connection);
  }
  return workers;
}

/** SIGTERM, as an orchestrator would, and wait for the drain. */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.exitCode !== null || w.signalCode !== null) return resolve();
          w.once('exit', () => resolve());
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function provision(h: Harness): Promise<void> {
  const workers = await startWorkers(h, { WORKER_CONCURRENCY: String(Math.max(...CONCURRENCY) + 1) });
  try {
    await Promise.all(
      clusterNames.map(async (name) => {
        const res = await h.api('POST', '/v1/clusters', { body: { team: 'bench', name, blueprint: 'local-files', spec: localSpec() } });
        if (res.status !== 202) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        const op = await h.waitFor(res.body.operation.id, undefined, 600_000);
        if (op.status !== 'succeeded') throw new Error(`create ${name} ${op.status}: ${JSON.stringify(op.error)}`);
      }),
    );
  } finally {
    await stopWorkers(workers);
  }
}

/**
 * One sweep through the service with `cap` checks at once. The cap is the API's setting (the sweep
 * records it when it is requested), so a second API process with that setting, over the same records
 * and queue, takes the request; fresh workers run it while their trees are sampled.
 */
async function serviceSweep(h: Harness, cap: number): Promise<{ perMin: number; peakRssMiB: number; idleRssMiB: number }> {
  const config = loadConfig({ ...h.env, CLUSTERD_ROLE: 'api', DRIFT_MAX_CONCURRENT_CHECKS: String(cap) });
  const api = await startService(config, createLogger(config.LOG_LEVEL, { bench: true }));
  const call = async (method: string, p: string) => {
    const res = await fetch(api.url + p, { method, headers: { authorization: `Bearer ${h.adminToken}` } });
    return { status: res.status, body: await res.json() };
  };
  let memory: ReturnType<ReturnType<typeof sampleTreeRss>['stop']> | undefined;
  let sweep: any;
  try {
    const workers = await startWorkers(h, {
      WORKER_CONCURRENCY: String(cap + 1),
      DRIFT_MAX_CONCURRENT_CHECKS: String(cap),
      DRIFT_SWEEP_POLL_MS: String(POLL_MS),
    });
    const sampler = sampleTreeRss(() => workers.flatMap((w) => (w.pid ? [w.pid] : [])), SAMPLE_MS);
    try {
      const started = await call('POST', '/v1/drift/sweeps');
      if (started.status !== 202) throw new Error(`POST /v1/drift/sweeps: ${started.status} ${JSON.stringify(started.body)}`);
      const deadline = Date.now() + FLEET * 120_000;
      do {
        await sleep(250);
        sweep = (await call('GET', `/v1/drift/sweeps/${started.body.id}`)).body;
        if (Date.now() > deadline) throw new Error(`sweep ${started.body.id} still running: ${JSON.stringify(sweep)}`);
      } while (sweep.status === 'running');
    } finally {
      memory = sampler.stop();
      await stopWorkers(workers);
    }
  } finally {
    await api.stop();
  }
  if (sweep.status !== 'succeeded' || sweep.total !== FLEET || sweep.clean !== FLEET) {
    throw new Error(`sweep at ${cap} did not find ${FLEET} clean clusters: ${JSON.stringify(sweep)}`);
  }
  const minutes = (Date.parse(sweep.finishedAt) - Date.parse(sweep.startedAt)) / 60_000;
  return { perMin: FLEET / minutes, peakRssMiB: memory.peakBytes / MIB, idleRssMiB: memory.firstBytes / MIB };
}

/** What one drift check does, in this process: the cloud against the state, then the state against the spec. */
async function directCheck(h: Harness, name: string): Promise<void> {
  const stack = await directStack(h, name, localSpec());
  const results = [await stack.previewRefresh(), await stack.preview()];
  const changes = results.flatMap((r) => Object.entries(r.changeSummary).filter(([op, n]) => op !== 'same' && (n ?? 0) > 0));
  if (changes.length) throw new Error(`direct check of ${name} found changes: ${JSON.stringify(changes)}`);
}

/** Every cluster checked directly, `cap` at once; clusters per minute. */
async function directChecks(h: Harness, cap: number): Promise<number> {
  const todo = [...clusterNames];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: cap }, async () => {
      for (let name = todo.shift(); name; name = todo.shift()) await directCheck(h, name);
    }),
  );
  return FLEET / ((performance.now() - t0) / 60_000);
}

function printTable(rows: Row[]): void {
  const header = [
    'concurrency',
    'service clusters/min',
    'direct clusters/min',
    'service/direct',
    'peak worker RSS MiB',
    'idle worker RSS MiB',
  ];
  const cells = rows.map((r) => [
    String(r.concurrency),
    r.servicePerMin.toFixed(1),
    r.directPerMin.toFixed(1),
    (r.servicePerMin / r.directPerMin).toFixed(2),
    r.peakRssMiB.toFixed(0),
    r.idleRssMiB.toFixed(0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  for (const line of [header, widths.map((w) => '-'.repeat(w)), ...cells])
    console.log(line.map((c, i) => c.padStart(widths[i]!)).join('  '));
}

if (!(Number.isInteger(FLEET) && FLEET >= 1)) throw new Error('BENCH_SWEEP_FLEET must be an integer of at least 1');
if (!CONCURRENCY.every((n) => Number.isInteger(n) && n >= 1 && n <= 255))
  throw new Error('BENCH_SWEEP_CONCURRENCY must be comma-separated integers from 1 to 255');
if (!(Number.isInteger(WORKERS) && WORKERS >= 1)) throw new Error('BENCH_SWEEP_WORKERS must be an integer of at least 1');
if (!process.env.TEST_DATABASE_URL)
  throw new Error('the sweep bench runs workers as processes, which need TEST_DATABASE_URL (PostgreSQL): run it with npm run bench:sweep');
console.log(machineLine('sweep bench'));
console.log(
  `fleet drift sweep: ${FLEET} local-files clusters, ${WORKERS} worker process(es) with WORKER_CONCURRENCY = checks + 1, DRIFT_SWEEP_POLL_MS ${POLL_MS}`,
);
const h = await startHarness({ workers: 'none', env: { DRIFT_SWEEP_CRON: 'off' } });
try {
  const t0 = performance.now();
  await provision(h);
  console.log(`provisioned ${FLEET} clusters in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // The first Automation API run in this process loads what later runs reuse; the service's workers were warmed by provisioning.
  await directCheck(h, clusterNames[0]!);
  const rows: Row[] = [];
  for (const cap of CONCURRENCY) {
    const service = await serviceSweep(h, cap);
    const directPerMin = await directChecks(h, cap);
    console.log(
      `${cap} at once: service ${service.perMin.toFixed(1)} clusters/min (sweep startedAt -> finishedAt), direct ${directPerMin.toFixed(1)} clusters/min, peak worker RSS ${service.peakRssMiB.toFixed(0)} MiB`,
    );
    rows.push({
      concurrency: cap,
      servicePerMin: service.perMin,
      directPerMin,
      peakRssMiB: service.peakRssMiB,
      idleRssMiB: service.idleRssMiB,
    });
  }
  printTable(rows);
} finally {
  await h.stop();
}
process.exit(0);
