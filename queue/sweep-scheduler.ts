import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import { SWEEP_JOB, SWEEP_SCHEDULER_ID, type SweepJobData } from './names.js';

export interface SweepScheduleOptions {
  /** Cron pattern (5 or 6 fields), or `off` to remove the schedule. */
  cron: string;
  /** IANA time zone the pattern is read in. */
  timezone: string;
  /** Identifies this process in the claim. */
  instanceId: string;
  /** Prefix of the claim key (the queue prefix). */
  prefix: string;
}

/** How long one instance's claim on upserting a given schedule lasts. */
const CLAIM_TTL_S = 60;

/**
 * Makes the fleet sweep's job scheduler match the configuration. Upserting one scheduler id is
 * idempotent in BullMQ, and the claim (SET NX in Redis, keyed by the schedule itself) makes one
 * instance do it however many start at once; a deployment with a new schedule has a new key, so it
 * applies at once. Returns whether this instance applied the schedule.
 */
export async function applySweepSchedule(
  queue: Queue<SweepJobData>,
  redis: Redis,
  opts: SweepScheduleOptions,
  log: Logger,
): Promise<boolean> {
  const key = `${opts.prefix}:drift-sweep:schedule-claim:${opts.cron}|${opts.timezone}`;
  const claimed = await redis.set(key, opts.instanceId, 'EX', CLAIM_TTL_S, 'NX');
  if (claimed !== 'OK') return false;
  if (opts.cron === 'off') {
    await queue.removeJobScheduler(SWEEP_SCHEDULER_ID);
    log.info('fleet drift sweep schedule removed (DRIFT_SWEEP_CRON=off)');
    return true;
  }
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { pattern: opts.cron, tz: opts.timezone },
    { name: SWEEP_JOB, data: {}, opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 } } },
  );
  log.info({ cron: opts.cron, timezone: opts.timezone }, 'fleet drift sweep scheduled');
  return true;
}

/**
 * Applies the schedule now, then checks every `checkMs` that it is still there and applies it again
 * when it is missing (Redis lost its data, or was flushed), or while applying fails (Redis not
 * connected yet at start, or down). Only a missing schedule is put back: one that differs may come
 * from a newer deployment, which this process must not undo. Losing the claim to another instance
 * counts as done.
 */
export function keepSweepScheduleApplied(
  queue: Queue<SweepJobData>,
  redis: Redis,
  opts: SweepScheduleOptions,
  log: Logger,
  checkMs: number,
) {
  let applied = false;
  const loop = startPeriodicLoop({
    pass: async (stopping) => {
      try {
        if (!applied) {
          await applySweepSchedule(queue, redis, opts, log);
          applied = true;
        } else if (opts.cron !== 'off' && !(await queue.getJobScheduler(SWEEP_SCHEDULER_ID))) {
          log.warn('the drift sweep schedule is missing from Redis; applying it again');
          await applySweepSchedule(queue, redis, opts, log);
        }
      } catch (err) {
        // Expected while Redis is down: one line, not a stack trace, and none for a pass that shutdown cut short.
        if (!stopping.aborted)
          log.warn({ err: (err as Error).message, retryMs: checkMs }, 'could not apply the drift sweep schedule yet; retrying');
      }
    },
    intervalMs: checkMs,
    log,
    failureMessage: 'drift sweep schedule check failed',
  });
  return {
    /** Settles after the first attempt (tests wait on it). */
    firstAttempt: loop.tick(),
    /** Stops the checks; resolves once a check under way has ended. */
    stop: () => loop.stop(),
  };
}
