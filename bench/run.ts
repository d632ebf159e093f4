/**
 * Prints, measured in one run on this machine:
 *  1. accepted requests per second and p50/p99 latency of POST /v1/clusters under load from a separate
 *     process, and the CPU per request of the API process, PostgreSQL and the load generator;
 *  2. queue pick-up latency p50/p99 (queuedAt -> startedAt) with idle workers;
 *  3. the ratio of an update's end-to-end time through the service (the client waiting on the
 *     operation's event stream; and server side, queued -> finished) to the same update run directly
 *     with the Automation API on the same stack.
 * BENCH_ONLY_ACCEPT=1 prints the first alone, with the CPU each accepted request costs.
 */
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import { localSpec, ROOT, startHarness } from '../test/support/harness.js';
import { startCountingProxy } from '../test/support/pg-counting-proxy.js';
import { openStream } from '../test/support/sse-client.js';
import { directStack, machineLine, median, ms, pct, store } from './support.js';
import { processTable } from './tree-rss.js';

const LOAD_TOTAL = Number(process.env.BENCH_LOAD_TOTAL ?? 2000);
const LOAD_CONCURRENCY = Number(process.env.BENCH_LOAD_CONCURRENCY ?? 32);
const PICKUP_SAMPLES = Number(process.env.BENCH_PICKUP_SAMPLES ?? 12);
const RATIO_SAMPLES = Number(process.env.BENCH_RATIO_SAMPLES ?? 4);

const TICK_MS = 1000 / 100; // USER_HZ: 100 on Linux

/** CPU time so far of every process on this machine whose command starts with `comm` (postgres, redis-server). */
function cpuMsOf(comm: string): number {
  let ticks = 0;
  for (const p of processTable().values()) if (p.comm.startsWith(comm)) ticks += p.cpuTicks;
  return ticks * TICK_MS;
}

async function acceptance() {
  const h = await startHarness({ workers: 'none' });
  try {
    // The API serves from this process, so the load generator must run without blocking it.
    const load = (total: number, concurrency: number, runId: string, team = 'bench') =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', path.join(ROOT, 'bench/load.ts'), h.url, h.adminToken, String(total), String(concurrency), runId, team],
        { encoding: 'utf8' },
      );
    // Warm-up, so that JIT and connection pools do not count.
    await load(200, 8, 'warm');
    const [apiBefore, postgresBefore, redisBefore] = [process.cpuUsage(), cpuMsOf('postgres'), cpuMsOf('redis-server')];
    const { stdout: out } = await load(LOAD_TOTAL, LOAD_CONCURRENCY, 'run');
    const apiCpu = process.cpuUsage(apiBefore);
    const [postgresMs, redisMs] = [cpuMsOf('postgres') - postgresBefore, cpuMsOf('redis-server') - redisBefore];
    const r = JSON.parse(out.trim().split('\n').at(-1)!);
    console.log(
      `POST /v1/clusters (${store}, ${r.total} requests, ${r.concurrency} in flight, separate process): ${r.perSecond.toFixed(0)} accepted/s, p50 ${ms(r.p50)}, p99 ${ms(r.p99)}, errors ${r.errors} (goal >= 1500/s, p99 <= 50 ms)`,
    );
    // Where the machine's cores go per accepted request: they bound the rate.
    const per = (cpuMs: number) => `${(cpuMs / r.total).toFixed(2)} ms`;
    console.log(
      `  CPU per accepted request: API process ${per((apiCpu.user + apiCpu.system) / 1000)}, PostgreSQL ${per(postgresMs)}, Redis ${per(redisMs)}, load generator ${per(r.cpuMs)}; ` +
        `${cpus().length} cores for ${(r.seconds * 1000).toFixed(0)} ms`,
    );
    // A team with a quota has its creates decided one after the other, under its lock.
    await h.api('PUT', '/v1/teams/bench-quota/policy', { body: { maxClusters: 1_000_000 } });
    await load(200, 8, 'warm-quota', 'bench-quota');
    const q = JSON.parse((await load(LOAD_TOTAL, LOAD_CONCURRENCY, 'quota', 'bench-quota')).stdout.trim().split('\n').at(-1)!);
    console.log(
      `POST /v1/clusters, one team with a quota (maxClusters): ${q.perSecond.toFixed(0)} accepted/s, p50 ${ms(q.p50)}, p99 ${ms(q.p99)}, errors ${q.errors}`,
    );
  } finally {
    await h.stop();
  }
}

/** The round trips to the records of one accepted create, counted by a proxy (apart: the proxy costs the API process CPU). */
async function statementsPerCreate() {
  const proxy = await startCountingProxy(process.env.TEST_DATABASE_URL!);
  const h = await startHarness({ workers: 'none', databaseUrl: (url) => proxy.wrap(url) });
  try {
    const create = (name: string) =>
      h.api('POST', '/v1/clusters', { body: { team: 'bench', name, blueprint: 'local-files', spec: localSpec() } });
    for (let i = 0; i < 10; i++) await create(`warm-${i}`);
    const before = proxy.statements();
    for (let i = 0; i < 100; i++) await create(`counted-${i}`);
    console.log(`POST /v1/clusters: ${((proxy.statements() - before) / 100).toFixed(1)} statements to the records each`);
  } finally {
    await h.stop();
    await proxy.close();
  }
}

/** With `spares` warm job processes per worker (WORKER_SPARE_CHILDREN), to show what they save. */
async function pickupAndRatio(spares: number) {
  const h = await startHarness({ env: { WORKER_CONCURRENCY: '2', WORKER_SPARE_CHILDREN: String(spares) } });
  const label = `${spares} spare job process${spares === 1 ? '' : 'es'}`;
  try {
    const create = await h.api('POST', '/v1/clusters', {
      body: { team: 'bench', name: 'bench-ratio', blueprint: 'local-files', spec: localSpec() },
    });
    await h.waitFor(create.body.operation.id);
    const pickups: number[] = [];
    for (let i = 0; i < PICKUP_SAMPLES; i++) {
      const res = await h.api('POST', '/v1/clusters/bench-ratio/preview');
      const op = await h.waitFor(res.body.operation.id);
      pickups.push(Date.parse(op.startedAt) - Date.parse(op.queuedAt));
    }
    console.log(
      `[${label}] queue pick-up with idle workers (${PICKUP_SAMPLES} operations, queuedAt -> startedAt): p50 ${ms(median(pickups))}, p99 ${ms(pct(pickups, 99))}`,
    );

    const service: number[] = [];
    const serverSide: number[] = [];
    const direct: number[] = [];
    for (let i = 0; i < RATIO_SAMPLES; i++) {
      const t0 = performance.now();
      const res = await h.api('PATCH', '/v1/clusters/bench-ratio', { body: { spec: { nodePools: [{ name: 'default', size: 10 + i }] } } });
      // The client waits as a portal would: on the operation's event stream, which ends with the operation.
      const stream = await openStream(`${h.url}/v1/operations/${res.body.operation.id}/events`, h.adminToken);
      await stream.waitFor((text) => /^event: end$/m.test(text), 300_000);
      service.push(performance.now() - t0);
      stream.close();
      const op = (await h.api('GET', `/v1/operations/${res.body.operation.id}`)).body;
      if (op.status !== 'succeeded') throw new Error(`update failed: ${JSON.stringify(op.error)}`);
      serverSide.push(Date.parse(op.finishedAt) - Date.parse(op.queuedAt));

      const t1 = performance.now();
      const spec = { ...localSpec(), nodePools: [{ name: 'default', size: 50 + i }] };
      const stack = await directStack(h, 'bench-ratio', spec);
      await stack.up();
      direct.push(performance.now() - t1);
    }
    console.log(
      `[${label}] update through the service, the client waiting on the event stream: median ${ms(median(service))} ` +
        `(server side, queued -> finished: ${ms(median(serverSide))}); directly with the Automation API: median ${ms(median(direct))}; ` +
        `ratio ${(median(service) / median(direct)).toFixed(2)} (server side ${(median(serverSide) / median(direct)).toFixed(2)}), goal <= 1.10`,
    );
  } finally {
    await h.stop();
  }
}

console.log(machineLine('bench'));
await acceptance();
if (!process.env.BENCH_ONLY_ACCEPT) {
  await statementsPerCreate();
  await pickupAndRatio(0);
  await pickupAndRatio(1);
}
process.exit(0);
