import assert from 'node:assert/strict';
import { afterEach, describe, it, vi } from 'vitest';
import { keepLane } from '../../queue/lane-lease.js';
import { createLogger } from '../../src/logger.js';

const hold = { clusterId: '00000000-0000-4000-8000-000000000001', owner: 'w/1', epoch: 1 };
const log = createLogger('silent');
// Lets the renewal's promise chain run after a timer fired.
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('keepLane: the deadline a holder hands to whatever may outlive it', () => {
  afterEach(() => vi.useRealTimers());

  it('counts down from the last confirmed renewal to the kill (lease minus the kill margin), and is 0 once the kill is due', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    let t = 0;
    let answer: () => Promise<boolean> = async () => true;
    const lease = keepLane({ renew: () => answer() }, hold, { leaseMs: 3000, log, now: () => t });
    try {
      // A 3000 ms lease keeps a 1000 ms margin for the kill itself.
      assert.equal(lease.msUntilKill(), 2000);
      t = 700;
      assert.equal(lease.msUntilKill(), 1300);

      // The renewal sent at 1000 ms is confirmed: the count starts again from when it was sent.
      t = 1000;
      vi.advanceTimersByTime(1000);
      await settle();
      t = 1200;
      assert.equal(lease.msUntilKill(), 1800);

      // The store stops answering: nothing more is confirmed, and the deadline keeps its place.
      answer = () => new Promise<boolean>(() => undefined);
      t = 2000;
      vi.advanceTimersByTime(1000);
      await settle();
      t = 2900;
      assert.equal(lease.msUntilKill(), 100);
      assert.equal(lease.mustBeDead.aborted, false);
      t = 3000;
      vi.advanceTimersByTime(150);
      assert.equal(lease.mustBeDead.aborted, true);
      assert.equal(lease.msUntilKill(), 0);
    } finally {
      lease.stop();
    }
  });

  it('is 0 at once when a renewal finds the lane taken over', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    let t = 0;
    const lease = keepLane({ renew: async () => false }, hold, { leaseMs: 30_000, log, now: () => t });
    try {
      assert.equal(lease.msUntilKill(), 27_000);
      t = 10_000;
      vi.advanceTimersByTime(10_000);
      await settle();
      assert.equal(lease.mustBeDead.aborted, true);
      assert.equal(lease.msUntilKill(), 0);
    } finally {
      lease.stop();
    }
  });

  it('fences nothing when a renewal sent before the holder stopped finds the lane already let go', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'setInterval'] });
    let answer!: (renewed: boolean) => void;
    const lines: string[] = [];
    const lease = keepLane({ renew: () => new Promise<boolean>((resolve) => (answer = resolve)) }, hold, {
      leaseMs: 30_000,
      log: { error: (_: unknown, msg: string) => lines.push(msg), warn: () => undefined } as never,
      now: () => 5000,
    });
    vi.advanceTimersByTime(5000);
    // The holder is done and releases the lane while the renewal waits for a connection; the release runs first.
    lease.stop();
    answer(false);
    await settle();
    assert.equal(lease.atRisk.aborted, false);
    assert.equal(lease.mustBeDead.aborted, false);
    assert.deepEqual(lines, []);
  });
});
