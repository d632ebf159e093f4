import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OperationRecord } from '../domain/operation.js';

/** What the records say about the whole service, read at each scrape (the same in every process). */
export interface ActivitySource {
  /** Lanes held now, unfinished operations by status, and live clusters by blueprint and latest drift check. */
  activity(): Promise<Activity>;
}

export interface Activity {
  lanesHeld: number;
  unfinished: Array<{ status: string; count: number }>;
  drift: Array<{ blueprint: string; state: 'clean' | 'drifted' | 'failed' | 'never-checked'; count: number }>;
}

/** Queues that export their own metrics (BullMQ's `exportPrometheusMetrics`). */
export interface QueueMetricsSource {
  exportPrometheusMetrics(): Promise<string>;
}

/** Long operations: an EKS change takes 15 minutes, a drift check seconds. Seconds. */
const OPERATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

/**
 * The process's metrics, in the Prometheus format. Counters and histograms count what this process
 * did (sum them over the processes); the activity gauges read the records at each scrape and are the
 * same in every process (take their max). No label carries a team, a cluster or a token: a scrape
 * needs no token and must tell nobody what another team has.
 */
export function createServiceMetrics(sources: { activity: ActivitySource; queues: QueueMetricsSource[] }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'clusterd_http_requests_total',
    help: 'HTTP requests answered, by method, route (its pattern, `unmatched` when none) and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'clusterd_http_request_duration_seconds',
    help: 'Time from a request to the end of its answer (event streams included), by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60],
    registers: [registry],
  });
  const operationsFinished = new Counter({
    name: 'clusterd_operations_finished_total',
    help: 'Operations that ended, by kind, blueprint and outcome (succeeded, failed, cancelled, superseded)',
    labelNames: ['kind', 'blueprint', 'outcome'] as const,
    registers: [registry],
  });
  const operationDuration = new Histogram({
    name: 'clusterd_operation_duration_seconds',
    help: 'Time an operation ran, from its start to its end, by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [registry],
  });
  const operationWait = new Histogram({
    name: 'clusterd_operation_wait_seconds',
    help: 'Time an operation waited from its acceptance to its start (lane, approval, maintenance window), by kind',
    labelNames: ['kind'] as const,
    buckets: OPERATION_BUCKETS,
    registers: [registry],
  });
  const sweepDuration = new Histogram({
    name: 'clusterd_drift_sweep_duration_seconds',
    help: 'Time a fleet drift sweep took, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [10, 30, 60, 300, 600, 1800, 3600, 7200, 14400],
    registers: [registry],
  });
  const webhookAttempts = new Counter({
    name: 'clusterd_webhook_deliveries_total',
    help: 'Webhook delivery attempts, by outcome: delivered, retrying (will be tried again), failed (given up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  const sourceFailures = new Counter({
    name: 'clusterd_metrics_source_failures_total',
    help: 'Scrapes that could not read a source (records, queues); the gauges it feeds keep their last values',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  // One read of the records per scrape, shared by the gauges that show it. When the records cannot be
  // read the scrape still answers (a scrape that fails whole hides the process metrics just when needed).
  let last: Activity = { lanesHeld: 0, unfinished: [], drift: [] };
  let reading: Promise<Activity> | null = null;
  const activity = () =>
    (reading ??= sources.activity
      .activity()
      .then(
        (a) => (last = a),
        () => (sourceFailures.inc({ source: 'records' }), last),
      )
      .finally(() => setTimeout(() => (reading = null), 0)));
  const queueText = (q: QueueMetricsSource) => q.exportPrometheusMetrics().catch(() => (sourceFailures.inc({ source: 'queues' }), ''));
  new Gauge({
    name: 'clusterd_lanes_held',
    help: 'Clusters whose lane a worker holds now (an operation of theirs is running or starting)',
    registers: [registry],
    async collect() {
      this.set((await activity()).lanesHeld);
    },
  });
  new Gauge({
    name: 'clusterd_operations_unfinished',
    help: 'Operations not finished, by status (queued, running, awaiting-approval)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { status, count } of (await activity()).unfinished) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'clusterd_fleet_clusters',
    help: "Live clusters by blueprint and their latest drift check's result (clean, drifted, failed, never-checked)",
    labelNames: ['blueprint', 'drift'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const { blueprint, state, count } of (await activity()).drift) this.set({ blueprint, drift: state }, count);
    },
  });

  const seconds = (from: string, to: string) => Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000);
  return {
    contentType: registry.contentType,
    /** The exposition text: ours, then the queues' own. A source that cannot be read is counted, not fatal. */
    async text(): Promise<string> {
      const queues = await Promise.all(sources.queues.map(queueText));
      const ours = await registry.metrics();
      return `${ours}${mergeFamilies(queues)}`;
    },
    /** One answered request; `route` is the pattern that matched, never the path (names would be unbounded). */
    request(method: string, route: string | null, status: number, durationMs: number): void {
      const labels = { method, route: route ?? 'unmatched', status: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, durationMs / 1000);
    },
    /** An operation that ended (its outbox entry: once per operation, whichever process ended it). */
    operationFinished(op: OperationRecord, blueprint: string): void {
      operationsFinished.inc({ kind: op.kind, blueprint, outcome: op.status });
      if (op.startedAt && op.finishedAt)
        operationDuration.observe({ kind: op.kind, outcome: op.status }, seconds(op.startedAt, op.finishedAt));
      if (op.startedAt) operationWait.observe({ kind: op.kind }, seconds(op.queuedAt, op.startedAt));
    },
    sweepFinished(outcome: 'succeeded' | 'failed', durationMs: number): void {
      sweepDuration.observe({ outcome }, durationMs / 1000);
    },
    webhookAttempt(outcome: 'delivered' | 'retrying' | 'failed'): void {
      webhookAttempts.inc({ outcome });
    },
  };
}

export type ServiceMetrics = ReturnType<typeof createServiceMetrics>;

/**
 * Several queues' exports as one: each names the same families (`bullmq_job_count`...), and a family's
 * HELP, TYPE and samples must appear once and together in one exposition.
 */
export function mergeFamilies(exports: string[]): string {
  const families = new Map<string, { head: string[]; samples: string[] }>();
  for (const line of exports.flatMap((e) => e.split('\n')).filter(Boolean)) {
    const name = line.startsWith('#') ? line.split(' ')[2]! : line.split(/[{ ]/)[0]!;
    const family = families.get(name) ?? families.set(name, { head: [], samples: [] }).get(name)!;
    if (!line.startsWith('#')) family.samples.push(line);
    else if (!family.head.includes(line)) family.head.push(line);
  }
  return [...families.values()].map((f) => [...f.head, ...f.samples].join('\n') + '\n').join('');
}
