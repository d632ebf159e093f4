/**
 * Chaos run (`npm run chaos`; not part of the tests): the real service (API process, worker processes,
 * private PostgreSQL and Redis, the local-files test blueprint) takes a seeded load of provisions,
 * updates, inspections, cancels, hostile requests and destroys from concurrent clients, while a
 * worker is SIGKILLed every few seconds, Redis dies once and PostgreSQL restarts once. Then it waits
 * for every operation to end and checks the core promise: nothing lost, nothing run twice or two
 * runs on one cluster at once, no stack left locked, nothing left behind. Prints figures and a JSON
 * line; exits 1 when a must-be-zero figure is not zero. Settings: bench/chaos/options.ts
 * (`--operations=250 --clusters=20 --duration=300 --seed=...`, or CHAOS_* variables; docs/operations.md#chaos-run).
 */
import { randomInt } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { emptyAttackLog, runAttacks } from './chaos/attacks.js';
import {
  attemptStarts,
  clusterRows,
  leftoverFiles,
  lockFiles,
  missingOperations,
  operationRows,
  readJournalText,
  unfinished,
} from './chaos/audit.js';
import { runLoad, type LoadResult } from './chaos/clients.js';
import { watchEngines } from './chaos/engine-watch.js';
import { computeFigures } from './chaos/figures.js';
import { parseJournal } from './chaos/journal.js';
import { parseChaosOptions } from './chaos/options.js';
import { planAttacks, planSteps, type Step } from './chaos/plan.js';
import { seededRandom } from './chaos/random.js';
import { failures, printReport } from './chaos/report.js';
import { startChaosService, type ChaosService } from './chaos/service.js';
import { machineLine } from './support.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.log(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`);

/**
 * Waits until no operation is queued or running, printing progress. False at the deadline, or once
 * nothing has ended for `stallMs` (on a busy machine operations are slow, but they do end).
 */
async function settle(records: pg.Pool, deadline: number, stallMs: number): Promise<boolean> {
  let lastPrint = 0;
  let fewest = Infinity;
  let progressAt = Date.now();
  for (;;) {
    const left = await unfinished(records).catch(() => -1);
    if (left === 0) return true;
    if (left >= 0 && left < fewest) [fewest, progressAt] = [left, Date.now()];
    if (Date.now() > deadline || Date.now() - progressAt > stallMs) return false;
    if (Date.now() - lastPrint > 15_000) {
      log(`waiting for ${left < 0 ? '? (records unreachable)' : left} unfinished operation(s)`);
      lastPrint = Date.now();
    }
    await sleep(1000);
  }
}

/** Destroys again, as a client would, every provisioned cluster whose destroy did not end it (a destroy that failed after repeated kills, say). */
async function destroyLeftovers(
  service: ChaosService,
  records: pg.Pool,
  provisioned: Set<string>,
): Promise<LoadResult & { clusters: string[] }> {
  const live = (await clusterRows(records)).filter((c) => c.status !== 'destroyed' && provisioned.has(c.name)).map((c) => c.name);
  const steps: Step[] = live.map((cluster, index) => ({
    index: 100_000 + index,
    atMs: 0,
    cluster,
    kind: 'destroy',
    idempotency: 'key',
    method: 'DELETE',
    path: `/v1/clusters/${cluster}`,
  }));
  return { ...(await runLoad(steps, { url: service.url, token: service.adminToken, clients: 4 })), clusters: live };
}

async function main(): Promise<number> {
  const options = parseChaosOptions(process.argv.slice(2), process.env, () => randomInt(2 ** 31));
  const runDir = options.outDir ?? (await mkdtemp(path.join(tmpdir(), `clusterd-chaos-${options.seed}-`)));
  await mkdir(runDir, { recursive: true });
  const settings = {
    operations: options.operations,
    clusters: options.clusters,
    durationMs: options.durationS * 1000,
    killMinMs: options.killMinS * 1000,
    killMaxMs: options.killMaxS * 1000,
  };
  const random = seededRandom(options.seed);
  const steps = planSteps(settings, random.fork('steps'));
  const attacks = planAttacks(settings, random.fork('attacks'));
  console.log(machineLine('chaos'));
  log(
    `seed ${options.seed}: ${steps.length} requests on ${options.clusters} clusters over ${options.durationS} s from ${options.clients} clients; ${options.workers} workers x ${options.workerConcurrency}, lease ${options.leaseMs} ms; ${attacks.filter((a) => a.type === 'kill-worker').length} worker kills planned, Redis (${options.redisSignal}) and PostgreSQL restarted once; logs and journal in ${runDir}`,
  );

  const service = await startChaosService(options, runDir);
  const records = new pg.Pool({ connectionString: service.databaseUrl, max: 3, connectionTimeoutMillis: 3000, query_timeout: 15_000 });
  // An idle connection dies with the PostgreSQL restart; the pool drops it and connects again.
  records.on('error', () => undefined);
  try {
    const watcher = watchEngines(service.journalVar, path.join(service.dataDir, 'workspaces'));
    const attackLog = emptyAttackLog();
    const t0 = Date.now();
    const progress = setInterval(() => {
      void unfinished(records)
        .then(
          (n) => `${n} unfinished`,
          () => 'records unreachable',
        )
        .then((state) => log(`${Math.round((Date.now() - t0) / 1000)} s: ${state}, ${attackLog.kills.length} kills`));
    }, 20_000);
    const [load] = await Promise.all([
      runLoad(steps, { url: service.url, token: service.adminToken, clients: options.clients }),
      runAttacks(attacks, service, records, t0, options.redisSignal, attackLog).then(() => log('attacks done')),
    ]);
    clearInterval(progress);
    log(
      `load done in ${Math.round((Date.now() - t0) / 1000)} s: ${load.accepted.size} operations accepted; Redis down ${attackLog.redis ? `${attackLog.redis.upAt - attackLog.redis.downAt} ms` : 'never'}, PostgreSQL down ${attackLog.postgres ? `${attackLog.postgres.upAt - attackLog.postgres.downAt} ms` : 'never'}`,
    );

    const deadline = Date.now() + options.timeoutS * 1000;
    const stallMs = options.stallS * 1000;
    let settled = await settle(records, deadline, stallMs);
    const retried = settled ? await destroyLeftovers(service, records, load.provisioned) : null;
    if (retried?.clusters.length) {
      log(`destroying again ${retried.clusters.length} cluster(s) the planned destroy did not end: ${retried.clusters.join(', ')}`);
      settled = await settle(records, deadline, stallMs);
    }
    log(
      settled
        ? `every operation ended ${Math.round((Date.now() - t0) / 1000)} s after the start`
        : `gave up waiting ${Math.round((Date.now() - t0) / 1000)} s after the start, with operations unfinished`,
    );

    const leftoverProcesses = await watcher.alive();
    const watch = await watcher.stop();
    const operations = await operationRows(records);
    const clusters = await clusterRows(records);
    const merged: LoadResult = retried
      ? {
          ...load,
          exchanges: [...load.exchanges, ...retried.exchanges],
          accepted: new Map([...load.accepted, ...retried.accepted]),
          operationsByKey: new Map([...load.operationsByKey, ...retried.operationsByKey]),
          unanswered: [...load.unanswered, ...retried.unanswered],
        }
      : load;
    const figures = computeFigures({
      operations,
      clusters,
      load: merged,
      watch,
      attacks: attackLog,
      leftoverProcesses,
      attemptStarts: await attemptStarts(records),
      journal: parseJournal(await readJournalText(service.journalFile)),
      missing: await missingOperations([...merged.accepted.keys()], { url: service.url, token: service.adminToken }),
      lockFiles: await lockFiles(service.dataDir),
      leftoverFiles: leftoverFiles(service.dataDir, clusters),
      unexpectedWorkerExits: service.workers.unexpectedExits.length,
      leaseMs: options.leaseMs,
    });
    const context = {
      seed: options.seed,
      settings: options,
      runDir,
      wallS: Math.round((Date.now() - t0) / 1000),
      settled,
      redisDownMs: attackLog.redis && attackLog.redis.upAt - attackLog.redis.downAt,
      postgresDownMs: attackLog.postgres && attackLog.postgres.upAt - attackLog.postgres.downAt,
      destroysRetried: retried?.clusters.length ?? 0,
    };
    await writeFile(
      path.join(runDir, 'figures.json'),
      JSON.stringify(
        {
          ...context,
          ...figures,
          attacks: attackLog,
          workerPids: service.workers.pids,
          unexpectedWorkerExits: service.workers.unexpectedExits,
        },
        null,
        2,
      ),
    );
    // What the process sampler saw of every run, for looking into a failed figure.
    await writeFile(path.join(runDir, 'runs-seen.json'), JSON.stringify([...watch.marks.values()], null, 2));
    printReport(figures, context);
    return failures(figures).length || !settled ? 1 : 0;
  } finally {
    await records.end().catch(() => undefined);
    await service.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
