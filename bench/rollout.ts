/**
 * A fleet rollout over BENCH_ROLLOUT_FLEET local-files clusters (default 50): one stage, at most
 * BENCH_ROLLOUT_CONCURRENCY members at once (default 4), an upgrade from 1.30 to 1.31 (one update
 * per member), with the service's default ROLLOUT_DRIVER_INTERVAL_MS unless set. Prints, measured
 * in one run on this machine:
 *  1. the rollout's wall time (createdAt -> finishedAt) against the ideal for its concurrency: the sum
 *     of its member operations' run times (startedAt -> finishedAt) divided by the concurrency;
 *  2. the driver's overhead per member: how long a freed slot stays empty before the driver queues the
 *     next member's update (median and p95), and how long a queued update waits for its lane;
 *  3. the mean number of members in flight against the cap.
 */
import { loadConfig } from '../src/config.js';
import { localSpec, startHarness, type Harness } from '../test/support/harness.js';
import { machineLine, median, pct } from './support.js';

const FLEET = Number(process.env.BENCH_ROLLOUT_FLEET ?? 50);
const CONCURRENCY = Number(process.env.BENCH_ROLLOUT_CONCURRENCY ?? 4);
const DRIVER_MS = loadConfig({ ROLLOUT_DRIVER_INTERVAL_MS: process.env.ROLLOUT_DRIVER_INTERVAL_MS }).ROLLOUT_DRIVER_INTERVAL_MS;
const sleep = (msecs: number) => new Promise((r) => setTimeout(r, msecs));
const s = (msecs: number) => `${(msecs / 1000).toFixed(1)} s`;

if (!(Number.isInteger(FLEET) && FLEET >= 1)) throw new Error('BENCH_ROLLOUT_FLEET must be an integer of at least 1');
if (!(Number.isInteger(CONCURRENCY) && CONCURRENCY >= 1)) throw new Error('BENCH_ROLLOUT_CONCURRENCY must be an integer of at least 1');

/** Provisions the fleet, at most `CONCURRENCY` provisions at a time so that the workers are not flooded. */
async function provision(h: Harness): Promise<void> {
  const names = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i).padStart(3, '0')}`);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let name = names.shift(); name; name = names.shift()) {
        const res = await h.api('POST', '/v1/clusters', {
          body: { team: 'bench', name, blueprint: 'local-files', labels: { bench: 'rollout' }, spec: localSpec() },
        });
        if (res.status !== 202) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
        const op = await h.waitFor(res.body.operation.id, undefined, 600_000);
        if (op.status !== 'succeeded') throw new Error(`create ${name} ${op.status}: ${JSON.stringify(op.error)}`);
      }
    }),
  );
}

interface Run {
  queuedAt: number;
  startedAt: number;
  finishedAt: number;
}

/** For each member after the first `cap`: how long the slot it took stayed empty after it was freed. */
function slotGaps(runs: Run[], cap: number): number[] {
  const byQueue = [...runs].sort((a, b) => a.queuedAt - b.queuedAt);
  const freed = runs.map((r) => r.finishedAt).sort((a, b) => a - b);
  return byQueue.slice(cap).map((r, i) => r.queuedAt - freed[i]!);
}

/** Mean members in flight (queued or running) over the rollout's life. */
function meanInFlight(runs: Run[], from: number, to: number): number {
  const busy = runs.reduce((sum, r) => sum + (r.finishedAt - r.queuedAt), 0);
  return busy / (to - from);
}

console.log(machineLine('rollout bench'));
console.log(
  `fleet rollout: ${FLEET} local-files clusters, one stage of maxConcurrency ${CONCURRENCY}, WORKER_CONCURRENCY ${CONCURRENCY}, ROLLOUT_DRIVER_INTERVAL_MS ${DRIVER_MS}`,
);
const h = await startHarness({
  env: { WORKER_CONCURRENCY: String(CONCURRENCY), ROLLOUT_DRIVER_INTERVAL_MS: String(DRIVER_MS), DRIFT_SWEEP_CRON: 'off' },
});
try {
  const t0 = performance.now();
  await provision(h);
  console.log(`provisioned ${FLEET} clusters in ${s(performance.now() - t0)}`);
  const created = await h.api('POST', '/v1/rollouts', {
    body: {
      name: 'bench-upgrade',
      selector: { blueprint: 'local-files', labels: { bench: 'rollout' } },
      change: { upgrade: { version: '1.31' } },
      strategy: { stages: [{ name: 'all', maxConcurrency: CONCURRENCY }] },
    },
  });
  if (created.status !== 201) throw new Error(`POST /v1/rollouts: ${created.status} ${JSON.stringify(created.body)}`);
  let rollout: any;
  const deadline = Date.now() + FLEET * 60_000;
  do {
    await sleep(500);
    rollout = (await h.api('GET', `/v1/rollouts/${created.body.id}`)).body;
    if (Date.now() > deadline) throw new Error(`rollout still ${rollout.status}: ${JSON.stringify(rollout.counts)}`);
  } while (!rollout.finishedAt);
  if (rollout.status !== 'succeeded' || rollout.counts.succeeded !== FLEET)
    throw new Error(`rollout ended ${rollout.status}: ${JSON.stringify(rollout.counts)}`);

  const runs: Run[] = [];
  for (const m of rollout.members) {
    const op = (await h.api('GET', `/v1/operations/${m.operations[0]}`)).body;
    runs.push({ queuedAt: Date.parse(op.queuedAt), startedAt: Date.parse(op.startedAt), finishedAt: Date.parse(op.finishedAt) });
  }
  const wall = Date.parse(rollout.finishedAt) - Date.parse(rollout.createdAt);
  const ideal = runs.reduce((sum, r) => sum + (r.finishedAt - r.startedAt), 0) / CONCURRENCY;
  const gaps = slotGaps(runs, CONCURRENCY);
  const laneWaits = runs.map((r) => r.startedAt - r.queuedAt);
  const runTimes = runs.map((r) => r.finishedAt - r.startedAt);
  console.log(`member update run time: median ${s(median(runTimes))}, p95 ${s(pct(runTimes, 95))}`);
  console.log(
    `wall time ${s(wall)} (created -> finished), ideal ${s(ideal)} (sum of run times / ${CONCURRENCY}): ${(wall / ideal).toFixed(2)}x`,
  );
  console.log(
    `driver overhead per member: a freed slot stays empty ${s(median(gaps))} median, ${s(pct(gaps, 95))} p95; a queued update waits ${s(median(laneWaits))} median, ${s(pct(laneWaits, 95))} p95 for its lane`,
  );
  console.log(
    `overhead over the ideal: ${s((wall - ideal) / FLEET)} per member; mean members in flight ${meanInFlight(runs, Date.parse(rollout.createdAt), Date.parse(rollout.finishedAt)).toFixed(2)} of ${CONCURRENCY}`,
  );
} finally {
  await h.stop();
}
