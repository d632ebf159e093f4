import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, it } from 'vitest';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SWEEPS_QUEUE, SWEEP_SCHEDULER_ID } from '../../queue/names.js';
import { applySweepSchedule, keepSweepScheduleApplied } from '../../queue/sweep-scheduler.js';
import { connectRedis } from '../../src/redis.js';
import { createLogger } from '../../src/logger.js';
import { redisUrl } from '../support/harness.js';

const log = createLogger('silent');

describe('the fleet sweep schedule', () => {
  const prefix = `test-${randomUUID()}`;
  const connections: Redis[] = [];
  const queues: Queue[] = [];
  const instance = () => {
    const redis = new Redis(redisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(SWEEPS_QUEUE, { connection: redis, prefix });
    connections.push(redis);
    queues.push(queue);
    return { redis, queue };
  };

  afterAll(async () => {
    const redis = connections[0]!;
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    for (const q of queues) await q.close();
    for (const c of connections) await c.quit();
  });

  it('is upserted by exactly one of several instances starting at once, leaving one schedule', async () => {
    const options = { cron: '0 3 * * *', timezone: 'Europe/Paris', prefix };
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => {
        const { redis, queue } = instance();
        return applySweepSchedule(queue, redis, { ...options, instanceId: `instance-${i}` }, log);
      }),
    );
    assert.equal(results.filter(Boolean).length, 1);
    const schedulers = await queues[0]!.getJobSchedulers();
    assert.deepEqual(
      schedulers.map((s) => [s.key, s.pattern, s.tz]),
      [[SWEEP_SCHEDULER_ID, '0 3 * * *', 'Europe/Paris']],
    );
  });

  it('is replaced, not duplicated, when a deployment brings a new schedule', async () => {
    const { redis, queue } = instance();
    assert.equal(
      await applySweepSchedule(queue, redis, { cron: '30 1 * * *', timezone: 'UTC', prefix, instanceId: 'new-release' }, log),
      true,
    );
    const schedulers = await queue.getJobSchedulers();
    assert.deepEqual(
      schedulers.map((s) => [s.key, s.pattern, s.tz]),
      [[SWEEP_SCHEDULER_ID, '30 1 * * *', 'UTC']],
    );
    assert.equal(await queue.getJobSchedulersCount(), 1);
  });

  it('is applied once Redis answers, by a process that starts before its connection is up', async () => {
    const otherPrefix = `${prefix}-late`;
    // The API's fail-fast connection refuses commands until it is connected, as at a worker's start.
    const redis = connectRedis(redisUrl(), { failFast: true });
    const queue = new Queue(SWEEPS_QUEUE, { connection: redis, prefix: otherPrefix });
    connections.push(redis);
    queues.push(queue);
    const keeper = keepSweepScheduleApplied(
      queue,
      redis,
      { cron: '0 4 * * *', timezone: 'UTC', prefix: otherPrefix, instanceId: 'late' },
      log,
      100,
    );
    try {
      const deadline = Date.now() + 10_000;
      while ((await queue.getJobSchedulersCount().catch(() => 0)) === 0) {
        assert.ok(Date.now() < deadline, 'the schedule was never applied');
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(
        (await queue.getJobSchedulers()).map((s) => s.pattern),
        ['0 4 * * *'],
      );
    } finally {
      await keeper.stop();
      const keys = await redis.keys(`${otherPrefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
  });

  it('is put back after Redis loses its data, by a process that keeps running', async () => {
    const otherPrefix = `${prefix}-flushed`;
    const { redis } = instance();
    const queue = new Queue(SWEEPS_QUEUE, { connection: redis, prefix: otherPrefix });
    queues.push(queue);
    const keeper = keepSweepScheduleApplied(
      queue,
      redis,
      { cron: '0 5 * * *', timezone: 'UTC', prefix: otherPrefix, instanceId: 'survivor' },
      log,
      100,
    );
    const schedule = async () => (await queue.getJobSchedulers().catch(() => [])).map((s) => s.pattern);
    const until = async (want: string[]) => {
      const deadline = Date.now() + 10_000;
      while (JSON.stringify(await schedule()) !== JSON.stringify(want)) {
        assert.ok(Date.now() < deadline, `the schedule is ${JSON.stringify(await schedule())}, not ${JSON.stringify(want)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(['0 5 * * *']);
      // Everything of this deployment gone, as after a FLUSHALL or a Redis restart without persistence.
      for (let round = 0; round < 2; round++) {
        const keys = await redis.keys(`${otherPrefix}:*`);
        await redis.del(...keys);
        assert.deepEqual(await schedule(), []);
        await until(['0 5 * * *']);
      }
    } finally {
      await keeper.stop();
      const keys = await redis.keys(`${otherPrefix}:*`);
      if (keys.length) await redis.del(...keys);
    }
  });

  it('is removed with DRIFT_SWEEP_CRON=off', async () => {
    const { redis, queue } = instance();
    assert.equal(await applySweepSchedule(queue, redis, { cron: 'off', timezone: 'UTC', prefix, instanceId: 'off' }, log), true);
    assert.equal(await queue.getJobSchedulersCount(), 0);
  });
});
