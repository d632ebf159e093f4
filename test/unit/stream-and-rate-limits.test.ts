import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { Request } from 'express';
import { clientKey } from '../../server/client-address.js';
import { StreamSlots } from '../../server/stream-slots.js';
import { loadConfig } from '../../src/config.js';
import { TooManyRequestsError } from '../../src/errors.js';
import { parseRateRule } from '../../src/limits/rate-rule.js';

describe('StreamSlots', () => {
  it('refuses a token beyond its cap with a retry delay, and a release frees the slot once', () => {
    const slots = new StreamSlots({ perToken: 2, total: 10, retryAfterSeconds: 7 });
    const first = slots.acquire('a');
    slots.acquire('a');
    const err = (() => {
      try {
        slots.acquire('a');
      } catch (e) {
        return e;
      }
    })();
    assert.ok(err instanceof TooManyRequestsError);
    assert.equal(err.retryAfterSeconds, 7);
    assert.match(err.message, /already has 2 event streams open \(at most 2\)/);
    slots.acquire('b');
    first();
    first();
    assert.equal(slots.inUse, 2);
    slots.acquire('a');
    assert.throws(() => slots.acquire('a'), TooManyRequestsError);
  });

  it('refuses every token once the process holds its total', () => {
    const slots = new StreamSlots({ perToken: 5, total: 3 });
    for (const t of ['a', 'b', 'c']) slots.acquire(t);
    assert.throws(() => slots.acquire('d'), /holds its most event streams \(3\)/);
  });
});

describe('rate rules and their configuration', () => {
  it('parses count/duration and off', () => {
    assert.deepEqual(parseRateRule('30/1m'), { points: 30, windowMs: 60_000 });
    assert.deepEqual(parseRateRule(' 5/1h '), { points: 5, windowMs: 3_600_000 });
    assert.equal(parseRateRule('off'), null);
    for (const bad of ['0/1m', '30', '30/', '30/10s', '-1/1m', '1.5/1m', '30/1m/2']) assert.equal(parseRateRule(bad), undefined, bad);
  });

  it('has defaults, and reports every bad key together', () => {
    const c = loadConfig({});
    assert.deepEqual(c.RATE_LIMIT_AUTH_FAILURES, { points: 30, windowMs: 60_000 });
    assert.deepEqual(c.RATE_LIMIT_DRIFT_SWEEPS, { points: 5, windowMs: 3_600_000 });
    assert.equal(c.TRUST_PROXY, false);
    assert.equal(c.STREAMS_MAX_PER_TOKEN, 20);
    assert.equal(c.KUBECONFIG_MAX_CONCURRENT_READS, 2);
    assert.equal(loadConfig({ RATE_LIMIT_WEBHOOK_TESTS: 'off' }).RATE_LIMIT_WEBHOOK_TESTS, null);
    assert.deepEqual(loadConfig({ TRUST_PROXY: 'loopback, 10.0.0.0/8' }).TRUST_PROXY, ['loopback', '10.0.0.0/8']);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).TRUST_PROXY, 2);
    assert.throws(
      () =>
        loadConfig({
          RATE_LIMIT_AUTH_FAILURES: 'lots',
          TRUST_PROXY: 'everyone',
          STREAMS_MAX_PER_TOKEN: '0',
          KUBECONFIG_READ_TIMEOUT_MS: '5',
        }),
      (err: Error) =>
        ['RATE_LIMIT_AUTH_FAILURES', 'TRUST_PROXY', 'STREAMS_MAX_PER_TOKEN', 'KUBECONFIG_READ_TIMEOUT_MS'].every((k) =>
          err.message.includes(k),
        ),
    );
  });
});

describe('clientKey', () => {
  const key = (ip: string) => clientKey({ ip, socket: {} } as unknown as Request);
  it('counts IPv4 clients by address, IPv4-mapped ones as IPv4, and IPv6 ones by /64', () => {
    assert.equal(key('203.0.113.7'), '203.0.113.7');
    assert.equal(key('::ffff:203.0.113.7'), '203.0.113.7');
    assert.equal(key('2001:db8:1:2::1'), '2001:db8:1:2::/64');
    assert.equal(key('2001:db8:1:2:ffff::9'), '2001:db8:1:2::/64');
    assert.notEqual(key('2001:db8:1:3::1'), key('2001:db8:1:2::1'));
  });
});
