import net from 'node:net';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { closeRedis, connectRedis } from '../../src/redis.js';

/** Unhandled rejections while `body` runs and shortly after: a queue's late error would land here. */
async function unhandledDuring(body: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const record = (reason: unknown) => seen.push(reason instanceof Error ? reason.message : String(reason));
  process.on('unhandledRejection', record);
  try {
    await body();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    process.off('unhandledRejection', record);
  }
  return seen;
}

/** A connection with two queues on it, as the service shares one; closed as the service closes them once `ready` resolves. */
async function openAndClose(url: string, ready: (redis: Redis) => Promise<unknown>) {
  const redis = connectRedis(url, { failFast: true });
  redis.on('error', () => undefined);
  const queues = [new Queue('a', { connection: redis }), new Queue('b', { connection: redis })];
  const errors: string[] = [];
  for (const q of queues) q.on('error', (err) => errors.push(err.message));
  await ready(redis);
  const t0 = performance.now();
  await closeRedis(redis);
  for (const q of queues) await q.close().catch(() => undefined);
  return { closeMs: performance.now() - t0, errors };
}

describe('closeRedis', () => {
  const servers: net.Server[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
  });

  it('returns in bounded time from a Redis that takes the connection and never answers, and nothing escapes', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => void sockets.push(s)).listen(0, '127.0.0.1');
    servers.push(server);
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as net.AddressInfo;
    let closeMs = Infinity;
    const unhandled = await unhandledDuring(async () => {
      ({ closeMs } = await openAndClose(`redis://127.0.0.1:${port}`, () => new Promise((r) => setTimeout(r, 200))));
    });
    for (const s of sockets) s.destroy();
    expect(unhandled).toEqual([]);
    expect(closeMs).toBeLessThan(5_000);
  });

  it('leaves no unhandled rejection from queues waiting on a connection closed mid-attempt to a Redis that is down', async () => {
    // Nothing listens on port 1. The `connecting` event comes while an attempt is in flight (its refusal
    // is read later): closed then, the connection ends only once the attempt's socket closes.
    const unhandled = await unhandledDuring(async () => {
      const { errors } = await openAndClose('redis://127.0.0.1:1', async (redis) => {
        // Not events.once: it would reject on the connection's errors.
        await new Promise((r) => redis.once('reconnecting', r));
        await new Promise((r) => redis.once('connecting', r));
      });
      expect(errors.length).toBeGreaterThan(0);
    });
    expect(unhandled).toEqual([]);
  });
});
