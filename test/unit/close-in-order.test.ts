import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, it } from 'vitest';
import { closeInOrder, type Closer } from '../../src/roles/close-in-order.js';

/** A logger whose lines are kept, parsed. */
function capturingLog() {
  const lines: Array<{ level: number; msg: string; step?: string; err?: { message: string } }> = [];
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

/** Closers that write their name into `ran` when they run; those named in `failing` then throw. */
function closers(names: string[], ran: string[], failing: string[] = []): Closer[] {
  return names.map((name) => ({
    name,
    close: async () => {
      // A step that takes time must still be waited for before the next one starts.
      await new Promise((r) => setTimeout(r, 5));
      ran.push(name);
      if (failing.includes(name)) throw new Error(`${name} would not close`);
    },
  }));
}

describe('closeInOrder', () => {
  it('runs every closer, one after the other, in the order given', async () => {
    const ran: string[] = [];
    const { log, lines } = capturingLog();
    await closeInOrder(closers(['HTTP', 'workers', 'redis', 'record store'], ran), log);
    assert.deepEqual(ran, ['HTTP', 'workers', 'redis', 'record store']);
    assert.deepEqual(lines, []);
  });

  it('goes on after a closer fails, logs the failure, and rejects with that error once all have run', async () => {
    const ran: string[] = [];
    const { log, lines } = capturingLog();
    await assert.rejects(closeInOrder(closers(['HTTP', 'workers', 'redis', 'record store'], ran, ['workers']), log), {
      message: 'workers would not close',
    });
    assert.deepEqual(ran, ['HTTP', 'workers', 'redis', 'record store']);
    assert.deepEqual(
      lines.map((l) => ({ level: l.level, msg: l.msg, step: l.step, err: l.err?.message })),
      [{ level: 50, msg: 'shutdown step failed: workers; going on with the next ones', step: 'workers', err: 'workers would not close' }],
    );
  });

  it('rejects with an AggregateError naming every step that failed, in order', async () => {
    const ran: string[] = [];
    const { log, lines } = capturingLog();
    const stopped = closeInOrder(closers(['HTTP', 'workers', 'redis', 'record store'], ran, ['HTTP', 'redis']), log);
    await assert.rejects(stopped, (err: unknown) => {
      assert.ok(err instanceof AggregateError);
      assert.equal(err.message, '2 shutdown steps failed: HTTP, redis');
      assert.deepEqual(
        err.errors.map((e: Error) => e.message),
        ['HTTP would not close', 'redis would not close'],
      );
      return true;
    });
    assert.deepEqual(ran, ['HTTP', 'workers', 'redis', 'record store']);
    assert.deepEqual(
      lines.map((l) => l.step),
      ['HTTP', 'redis'],
    );
  });

  it('counts a closer that throws before its first await as failed, and goes on', async () => {
    const ran: string[] = [];
    const throwsAtOnce: Closer = {
      name: 'feeds',
      close: () => {
        throw new Error('not started');
      },
    };
    await assert.rejects(closeInOrder([throwsAtOnce, ...closers(['record store'], ran)], capturingLog().log), { message: 'not started' });
    assert.deepEqual(ran, ['record store']);
  });
});
