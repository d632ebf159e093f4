import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import { RETENTION_STEPS, type RetentionStep, type RetentionStore } from '../src/store/retention-store.js';

/** How long each kind of record is kept, in ms; null keeps it forever. */
export interface RetentionPolicy {
  /** Events of finished operations, counted from the operation's end. */
  operationEventsMs: number | null;
  /** The spec copy on finished operations, counted from the operation's end. */
  operationSpecsMs: number | null;
  /** Idempotency keys, counted from their last change (the stored answer). */
  idempotencyKeysMs: number | null;
  /** Settled webhook deliveries and their attempts, counted from when they settled. */
  webhookDeliveriesMs: number | null;
  /** Drift reports (but each live cluster's latest) and finished sweeps. */
  driftHistoryMs: number | null;
  /** Kubeconfig reads (an audit log). */
  kubeconfigReadsMs: number | null;
}

/** Options of a retention pass. */
export interface RetentionSettings {
  policy: RetentionPolicy;
  /** Most rows one statement removes. */
  batchSize: number;
  /** Pause between two statements, in ms, so that other work gets the tables in between. */
  pauseMs: number;
}

/** Rows removed (or cleared) by one pass, by step. */
export type RetentionReport = Record<RetentionStep, number>;

function periodOf(step: RetentionStep, policy: RetentionPolicy): number | null {
  switch (step) {
    case 'operation-events':
      return policy.operationEventsMs;
    case 'operation-specs':
      return policy.operationSpecsMs;
    case 'idempotency-keys':
      return policy.idempotencyKeysMs;
    case 'webhook-attempts':
    case 'webhook-deliveries':
      return policy.webhookDeliveriesMs;
    case 'drift-reports':
    case 'drift-sweep-links':
    case 'drift-sweeps':
      return policy.driftHistoryMs;
    case 'kubeconfig-reads':
      return policy.kubeconfigReadsMs;
    default: {
      const unknown: never = step;
      throw new Error(`unknown retention step ${String(unknown)}`);
    }
  }
}

/**
 * One pass over every step: batches of at most `batchSize` rows, each its own short statement,
 * with a pause between them, until a batch comes back short. A step that fails is logged and the
 * pass goes on with the next one. Aborting `signal` stops the pass between two batches.
 */
export async function runRetentionPass(
  store: RetentionStore,
  settings: RetentionSettings,
  log: Logger,
  signal?: AbortSignal,
): Promise<RetentionReport> {
  const report = Object.fromEntries(RETENTION_STEPS.map((s) => [s, 0])) as RetentionReport;
  for (const step of RETENTION_STEPS) {
    const period = periodOf(step, settings.policy);
    if (period === null) continue;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const n = await store.pruneBatch(step, period, settings.batchSize);
        report[step] += n;
        if (n < settings.batchSize) break;
        await sleep(settings.pauseMs, undefined, { signal });
      }
    } catch (err) {
      if (signal?.aborted) break;
      log.warn({ err, step }, 'retention step failed; the next pass tries again');
    }
  }
  return report;
}

/**
 * Runs a retention pass now and every `intervalMs`, one at a time in this process (a pass still
 * running when the next is due makes that one wait for it). Any number of processes may run
 * passes at once: each batch skips the rows another is removing.
 */
export function startRetention(deps: { store: RetentionStore; settings: RetentionSettings; intervalMs: number; log: Logger }) {
  // Stopping ends a pass under way between two batches.
  return startPeriodicLoop({
    pass: async (stopping) => {
      const started = performance.now();
      const report = await runRetentionPass(deps.store, deps.settings, deps.log, stopping);
      const removed = Object.fromEntries(Object.entries(report).filter(([, n]) => n > 0));
      const durationMs = Math.round(performance.now() - started);
      if (Object.keys(removed).length > 0) deps.log.info({ removed, durationMs }, 'retention pass removed records past their retention');
      else deps.log.debug({ durationMs }, 'retention pass found nothing past its retention');
      return report;
    },
    intervalMs: deps.intervalMs,
    log: deps.log,
    failureMessage: 'retention pass failed',
  });
}
