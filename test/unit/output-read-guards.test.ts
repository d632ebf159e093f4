import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { FairSlots } from '../../src/engine/fair-slots.js';
import { createSharedOutputReader } from '../../src/engine/shared-output-reader.js';
import { UnavailableError } from '../../src/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stands in for the CLI: each read takes `ms`, stops when aborted, and is counted. */
function slowRead(ms: number) {
  const calls: string[] = [];
  let running = 0;
  let peak = 0;
  const read = (stackName: string, _key: string, signal: AbortSignal) =>
    new Promise<unknown>((resolve, reject) => {
      calls.push(stackName);
      peak = Math.max(peak, ++running);
      const timer = setTimeout(() => {
        running--;
        resolve(`config of ${stackName}`);
      }, ms);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          running--;
          reject(signal.reason);
        },
        { once: true },
      );
    });
  return { read, calls, peak: () => peak, running: () => running };
}

const request = (stackName: string, version = 'v1', queue = 'alpha') => ({ stackName, key: 'kubeconfig', version, queue });

describe('FairSlots', () => {
  it('holds at most its size and hands a freed slot straight to the next waiter', async () => {
    const slots = new FairSlots(2);
    const a = await slots.acquire('t');
    const b = await slots.acquire('t');
    let third = false;
    const c = slots.acquire('t').then((release) => ((third = true), release));
    await sleep(10);
    assert.equal(third, false);
    assert.equal(slots.waiting, 1);
    a();
    a();
    (await c)();
    assert.equal(third, true);
    assert.equal(slots.inUse, 1);
    b();
    assert.equal(slots.inUse, 0);
  });

  it('serves the keys in turn, so that one key with many waiters does not starve another', async () => {
    const slots = new FairSlots(1);
    const first = await slots.acquire('busy');
    const order: string[] = [];
    // Each holder lets go as soon as it has the slot.
    const take = (key: string, name: string) =>
      slots.acquire(key).then((release) => {
        order.push(name);
        release();
      });
    const waiters = [...Array.from({ length: 5 }, (_, i) => take('busy', `busy${i}`)), take('quiet', 'quiet')];
    first();
    await Promise.all(waiters);
    assert.equal(order.indexOf('quiet'), 1, order.join(','));
    assert.equal(slots.inUse, 0);
  });

  it('drops a waiter whose signal aborts, with the signal reason', async () => {
    const slots = new FairSlots(1);
    const held = await slots.acquire('a');
    const controller = new AbortController();
    const waiting = slots.acquire('b', controller.signal);
    controller.abort(new Error('gave up'));
    await assert.rejects(waiting, /gave up/);
    assert.equal(slots.waiting, 0);
    held();
    assert.equal(slots.inUse, 0);
  });

  it('refuses a size below 1', () => {
    assert.throws(() => new FairSlots(0), /at least 1/);
  });
});

describe('createSharedOutputReader', () => {
  it('shares one read between concurrent requests for a stack, and serves it from memory for cacheMs', async () => {
    const cli = slowRead(50);
    const reader = createSharedOutputReader({ read: cli.read, maxConcurrent: 2, timeoutMs: 5000, cacheMs: 200 });
    const values = await Promise.all(Array.from({ length: 20 }, () => reader.read(request('one'))));
    assert.deepEqual([...new Set(values)], ['config of one']);
    assert.equal(await reader.read(request('one')), 'config of one');
    assert.deepEqual(cli.calls, ['one']);
    await sleep(250);
    await reader.read(request('one'));
    assert.deepEqual(cli.calls, ['one', 'one'], 'read again once the value expired');
  });

  it('reads again for a new version of the stack', async () => {
    const cli = slowRead(5);
    const reader = createSharedOutputReader({ read: cli.read, maxConcurrent: 2, timeoutMs: 5000, cacheMs: 60_000 });
    await reader.read(request('one', 'v1'));
    await reader.read(request('one', 'v2'));
    assert.equal(cli.calls.length, 2);
  });

  it('with cacheMs 0 keeps nothing, but concurrent requests still share a read', async () => {
    const cli = slowRead(30);
    const reader = createSharedOutputReader({ read: cli.read, maxConcurrent: 2, timeoutMs: 5000, cacheMs: 0 });
    await Promise.all([reader.read(request('one')), reader.read(request('one'))]);
    await reader.read(request('one'));
    assert.equal(cli.calls.length, 2);
  });

  it('runs at most maxConcurrent reads at once', async () => {
    const cli = slowRead(30);
    const reader = createSharedOutputReader({ read: cli.read, maxConcurrent: 2, timeoutMs: 5000, cacheMs: 0 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => reader.read(request(`stack-${i}`))));
    assert.equal(cli.calls.length, 10);
    assert.equal(cli.peak(), 2);
  });

  it('stops a read that outlasts timeoutMs and answers UnavailableError with a retry delay', async () => {
    const cli = slowRead(10_000);
    const reader = createSharedOutputReader({ read: cli.read, maxConcurrent: 1, timeoutMs: 100, cacheMs: 5000, retryAfterSeconds: 3 });
    const started = Date.now();
    const err = await reader.read(request('stuck')).catch((e: unknown) => e);
    assert.ok(err instanceof UnavailableError);
    assert.match(err.message, /took longer than 100 ms; the read was stopped/);
    assert.equal(err.retryAfterSeconds, 3);
    assert.ok(Date.now() - started < 2000);
    assert.equal(cli.running(), 0, 'the read was stopped');
    assert.deepEqual(reader.load, { running: 0, waiting: 0 }, 'its slot is free');
    await assert.rejects(reader.read(request('stuck')), UnavailableError, 'a failure is not kept');
    assert.equal(cli.calls.length, 2);
  });

  it('answers by the deadline even when a read will not stop, keeps its slot until it does, and never starts a read queued past the deadline', async () => {
    const calls: string[] = [];
    let finish!: () => void;
    // A killed CLI whose pipes a leftover child keeps open: the read ends only later.
    const stubborn = (stackName: string) => {
      calls.push(stackName);
      return new Promise<unknown>((resolve) => (finish = () => resolve('late')));
    };
    const reader = createSharedOutputReader({ read: stubborn, maxConcurrent: 1, timeoutMs: 150, cacheMs: 0 });
    const started = Date.now();
    const [first, queued] = await Promise.all([
      reader.read(request('first')).catch((e: unknown) => e),
      reader.read(request('second', 'v1', 'beta')).catch((e: unknown) => e),
    ]);
    assert.ok(Date.now() - started < 2000);
    assert.ok(first instanceof UnavailableError && /took longer than 150 ms/.test(first.message));
    assert.ok(queued instanceof UnavailableError && /every state reader was busy for 150 ms/.test(queued.message));
    assert.deepEqual(calls, ['first']);
    assert.equal(reader.load.running, 1, 'the slot stays taken while the read goes on');
    finish();
    await sleep(10);
    assert.equal(reader.load.running, 0);
  });
});
