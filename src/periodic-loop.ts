import type { Logger } from 'pino';

/** Options of {@link startPeriodicLoop}. */
export interface PeriodicLoopOptions<T> {
  /**
   * One pass. `signal` is aborted by `stop()`: a long pass should end at its next safe point (between
   * two clusters, two batches) rather than run to its end.
   */
  pass(signal: AbortSignal): Promise<T>;
  /** Milliseconds between two passes' starts; a pass still running when the next is due takes its place. */
  intervalMs: number;
  log: Logger;
  /** Logged (at `warn`, with the error) when a pass throws. */
  failureMessage: string;
  /** Runs a first pass at once rather than after `intervalMs`. @defaultValue true */
  runNow?: boolean;
  /** Lets the process exit while this loop's timer is all that is left. @defaultValue false */
  unref?: boolean;
}

/** A running {@link startPeriodicLoop}. */
export interface PeriodicLoop<T> {
  /**
   * Runs a pass now, or joins the one under way (passes never overlap). Never rejects: a failed pass
   * is logged and resolves `undefined`. Works after `stop()` too, with the signal already aborted.
   */
  tick(): Promise<T | undefined>;
  /**
   * Asks for a pass that starts after now: at once, or right after the pass under way (which may have
   * looked before whatever the caller knows changed). Calls while one is owed are one pass.
   */
  soon(): void;
  /** Stops the timer, aborts the signal of the pass under way and waits for that pass. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Runs `pass` every `intervalMs`, one pass at a time: the shape of every background pass of the
 * service (reconciler, expiry watch, webhook requeuer, outbox relay, retention, sweep schedule,
 * stream re-check). A pass's error is logged, never thrown: the next pass tries again.
 */
export function startPeriodicLoop<T>(options: PeriodicLoopOptions<T>): PeriodicLoop<T> {
  if (!(options.intervalMs > 0)) throw new RangeError('intervalMs must be greater than 0');
  const stopping = new AbortController();
  let current: Promise<T | undefined> | null = null;
  let owed = false;

  const run = async (): Promise<T | undefined> => {
    try {
      return await options.pass(stopping.signal);
    } catch (err) {
      options.log.warn({ err }, options.failureMessage);
      return undefined;
    }
  };
  const tick = (): Promise<T | undefined> => {
    if (current) return current;
    const pass = run();
    current = pass;
    // Cleared once settled, never before it is set: a pass that fails at once still counts as run.
    void pass.finally(() => {
      if (current === pass) current = null;
      if (owed && !stopping.signal.aborted) {
        owed = false;
        void tick();
      }
    });
    return pass;
  };

  const timer = setInterval(() => void tick(), options.intervalMs);
  if (options.unref) timer.unref();
  if (options.runNow ?? true) void tick();
  return {
    tick,
    soon() {
      if (current) owed = true;
      else void tick();
    },
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await current;
    },
  };
}
