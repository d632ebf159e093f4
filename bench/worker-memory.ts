/**
 * Worker memory over many operations: one worker process (as production runs it, separate from the
 * API) runs BENCH_MEMORY_OPERATIONS previews of `outputs-only` clusters, BENCH_MEMORY_CLUSTERS at a
 * time. Prints the worker process's own RSS (its job processes are apart) after a warm-up and then
 * every tenth of the run, and its growth from the warm-up to the end: what a long-lived worker leaks;
 * and the peak RSS of each part of a running operation: the job's child, the CLI, the plugins.
 * Needs TEST_DATABASE_URL (the worker process shares the records): `npm run bench:memory` provides it.
 */
import { outputsOnlySpec, startHarness, WITH_OUTPUTS_ONLY } from '../test/support/harness.js';
import { freePort } from '../test/support/ports.js';
import { machineLine } from './support.js';
import { sampleOperationParts, statusMiB } from './tree-rss.js';

const OPERATIONS = Number(process.env.BENCH_MEMORY_OPERATIONS ?? 1000);
const CLUSTERS = Number(process.env.BENCH_MEMORY_CLUSTERS ?? 2);
const WARM_UP = Math.min(50, Math.floor(OPERATIONS / 10));

const rssMiB = (pid: number) => statusMiB(pid, 'VmRSS');

console.log(machineLine('worker memory bench'));
const h = await startHarness({ workers: 'none', env: { ...WITH_OUTPUTS_ONLY, WORKER_CONCURRENCY: String(CLUSTERS) } });
try {
  const metricsPort = await freePort();
  const worker = (await h.spawnWorker({ METRICS_PORT: String(metricsPort) })).pid!;
  /** The worker's V8 heap, from its /metrics (prom-client's default metrics): in use, and reserved. */
  const heapMiB = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) / 2 ** 20;
    return `${value('nodejs_heap_size_used_bytes').toFixed(0)}/${value('nodejs_heap_size_total_bytes').toFixed(0)}`;
  };
  const names = Array.from({ length: CLUSTERS }, (_, i) => `memory-${i}`);
  for (const name of names) {
    const res = await h.api('POST', '/v1/clusters', { body: { team: 'bench', name, blueprint: 'outputs-only', spec: outputsOnlySpec() } });
    const op = await h.waitFor(res.body.operation.id, undefined, 300_000);
    if (op.status !== 'succeeded') throw new Error(`provision failed: ${JSON.stringify(op.error)}`);
  }
  let started = 0;
  let done = 0;
  let warm = 0;
  const samples: string[] = [];
  const parts = sampleOperationParts(worker);
  const t0 = performance.now();
  // One lane per cluster, each running its previews one after the other.
  await Promise.all(
    names.map(async (name) => {
      while (started < OPERATIONS) {
        started++;
        const res = await h.api('POST', `/v1/clusters/${name}/preview`);
        const op = await h.waitFor(res.body.operation.id, undefined, 300_000);
        if (op.status !== 'succeeded') throw new Error(`preview failed: ${JSON.stringify(op.error)}`);
        done++;
        if (done === WARM_UP) warm = rssMiB(worker);
        if (done % Math.max(1, Math.floor(OPERATIONS / 10)) === 0)
          samples.push(`${done}: ${rssMiB(worker).toFixed(0)} (${await heapMiB()})`);
      }
    }),
  );
  const end = rssMiB(worker);
  const peak = parts.stop();
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
  console.log(
    `while previews ran, peak RSS: the job's own child process ${mib(peak.child)} (goal <= 100 MiB), a spare before its run ${mib(peak.spare)}, ` +
      `the Pulumi CLI ${mib(peak.cli)}, the plugins under it ${mib(peak.plugins)}`,
  );
  console.log(`worker process RSS (MiB) by operations run, with its V8 heap used/reserved: ${samples.join(', ')}`);
  console.log(
    `${OPERATIONS} operations in ${((performance.now() - t0) / 1000).toFixed(0)} s; worker RSS after ${WARM_UP}: ${warm.toFixed(0)} MiB, at the end: ${end.toFixed(0)} MiB, growth ${(((end - warm) / warm) * 100).toFixed(1)} % (goal <= 5 %)`,
  );
} finally {
  await h.stop();
}
process.exit(0);
