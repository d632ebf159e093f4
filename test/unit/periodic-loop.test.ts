import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, it, vi } from 'vitest';
import { startPeriodicLoop } from '../../src/periodic-loop.js';

/** A logger whose lines are kept, parsed. */
function capturingLog() {
  const lines: Array<{ level: number; msg: string; err?: { message: string } }> = [];
  const log = pino(
    { level: 'info' },
    new Writable({
      write: (chunk, _enc, done) => {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    }),
  );
  return { log, lines };
}

/** A promise and its resolver, to hold a pass open. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

// Lets the promise chains started by a timer run.
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('startPeriodicLoop', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
  afterEach(() => vi.useRealTimers());

  it('runs a pass at once, then every intervalMs', async () => {
    let passes = 0;
    const loop = startPeriodicLoop({
      pass: async () => ++passes,
      intervalMs: 1000,
      log: capturingLog().log,
      failureMessage: 'pass failed',
    });
    await settle();
    assert.equal(passes, 1);
    vi.advanceTimersByTime(1000);
    await settle();
    assert.equal(passes, 2);
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(1000);
      await settle();
    }
    assert.equal(passes, 5);
    await loop.stop();
  });

  it('waits intervalMs for its first pass with runNow: false', async () => {
    let passes = 0;
    const loop = startPeriodicLoop({
      pass: async () => ++passes,
      intervalMs: 1000,
      runNow: false,
      log: capturingLog().log,
      failureMessage: 'pass failed',
    });
    await settle();
    assert.equal(passes, 0);
    vi.advanceTimersByTime(1000);
    await settle();
    assert.equal(passes, 1);
    await loop.stop();
  });

  it('never overlaps itself: a pass slower than the interval takes the place of the passes due meanwhile, and tick joins it', async () => {
    let running = 0;
    let most = 0;
    let passes = 0;
    const slow = gate();
    const loop = startPeriodicLoop({
      pass: async () => {
        running++;
        most = Math.max(most, running);
        passes++;
        if (passes === 1) await slow.opened;
        running--;
        return passes;
      },
      intervalMs: 100,
      log: capturingLog().log,
      failureMessage: 'pass failed',
    });
    vi.advanceTimersByTime(550);
    const joined = loop.tick();
    await settle();
    assert.equal(passes, 1, 'no pass started while the first was running');
    slow.open();
    assert.equal(await joined, 1, 'tick during a pass resolves with that pass');
    vi.advanceTimersByTime(100);
    await settle();
    assert.equal(passes, 2);
    assert.equal(most, 1);
    await loop.stop();
  });

  it('soon() runs a pass at once when none runs, and once more after the pass under way however often it is asked', async () => {
    let passes = 0;
    const slow = gate();
    const loop = startPeriodicLoop({
      pass: async () => {
        passes++;
        if (passes === 2) await slow.opened;
        return passes;
      },
      intervalMs: 60_000,
      log: capturingLog().log,
      failureMessage: 'pass failed',
    });
    await settle();
    assert.equal(passes, 1);
    loop.soon();
    await settle();
    assert.equal(passes, 2, 'a pass at once: none was running');
    // Asked three times during the second pass: one pass after it, not three, and none alongside it.
    loop.soon();
    loop.soon();
    loop.soon();
    await settle();
    assert.equal(passes, 2);
    slow.open();
    await settle();
    await settle();
    assert.equal(passes, 3);
    await settle();
    assert.equal(passes, 3);
    await loop.stop();
  });

  it('logs a failed pass instead of throwing, and the next pass runs', async () => {
    const { log, lines } = capturingLog();
    let passes = 0;
    const loop = startPeriodicLoop({
      pass: async () => {
        if (++passes === 1) throw new Error('store unreachable');
        return passes;
      },
      intervalMs: 1000,
      log,
      failureMessage: 'reconcile pass failed',
    });
    await settle();
    assert.deepEqual(
      lines.map((l) => [l.level, l.msg, l.err?.message]),
      [[40, 'reconcile pass failed', 'store unreachable']],
    );
    vi.advanceTimersByTime(1000);
    await settle();
    assert.equal(passes, 2);
    assert.equal(await loop.tick(), 3);
    await loop.stop();
  });

  it('counts a pass that throws before its first await as run and failed (the next tick starts a new one)', async () => {
    const { log, lines } = capturingLog();
    let passes = 0;
    const loop = startPeriodicLoop<number>({
      pass: () => {
        passes++;
        throw new Error('at once');
      },
      intervalMs: 1000,
      runNow: false,
      log,
      failureMessage: 'pass failed',
    });
    assert.equal(await loop.tick(), undefined);
    assert.equal(await loop.tick(), undefined);
    assert.equal(passes, 2);
    assert.equal(lines.length, 2);
    await loop.stop();
  });

  it('stop() aborts the pass in flight, waits for it, and no pass runs after', async () => {
    const held = gate();
    let passes = 0;
    let sawAbort = false;
    let finished = false;
    const loop = startPeriodicLoop({
      pass: async (signal) => {
        passes++;
        await held.opened;
        sawAbort = signal.aborted;
        finished = true;
      },
      intervalMs: 100,
      log: capturingLog().log,
      failureMessage: 'pass failed',
    });
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await settle();
    assert.equal(stopped, false, 'stop waits for the pass under way');
    held.open();
    await stopping;
    assert.equal(finished, true);
    assert.equal(sawAbort, true, 'the pass saw its signal aborted');
    vi.advanceTimersByTime(1000);
    await settle();
    assert.equal(passes, 1);
    await loop.stop();
  });

  it('refuses an interval that is not positive', () => {
    assert.throws(
      () => startPeriodicLoop({ pass: async () => undefined, intervalMs: 0, log: capturingLog().log, failureMessage: 'x' }),
      /intervalMs must be greater than 0/,
    );
  });
});
