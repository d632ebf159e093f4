import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/main.js';
import { startHarness, type Harness } from '../support/harness.js';

/** Sends `count` requests, `parallel` at a time, and returns their answers. */
async function flood(count: number, parallel: number, send: (i: number) => Promise<Response>): Promise<Response[]> {
  const answers: Response[] = [];
  for (let i = 0; i < count; i += parallel) {
    answers.push(...(await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, j) => send(i + j)))));
  }
  return answers;
}

const statusCounts = (answers: Response[]) =>
  answers.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});

describe('rate limits held in Redis, shared by two API processes', () => {
  let h: Harness;
  let second: RunningService;
  let alpha: string;
  let beta: string;
  const urls = () => [h.url, second.url!];
  const call = (base: string, method: string, path: string, token: string, headers: Record<string, string> = {}) =>
    fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, ...headers } });

  beforeAll(async () => {
    h = await startHarness({
      workers: 'none',
      env: {
        RATE_LIMIT_AUTH_FAILURES: '20/1m',
        RATE_LIMIT_WEBHOOK_TESTS: '3/1m',
        RATE_LIMIT_DRIFT_SWEEPS: '2/1h',
        TRUST_PROXY: 'loopback',
        DRIFT_SWEEP_CRON: 'off',
      },
    });
    // The same records, Redis and QUEUE_PREFIX: another replica of the same deployment.
    second = await startService(loadConfig({ ...h.env, CLUSTERD_ROLE: 'api' }), createLogger(h.env.LOG_LEVEL!, { replica: 2 }));
    alpha = await h.teamToken('alpha');
    beta = await h.teamToken('beta');
  });
  afterAll(async () => {
    await second?.stop();
    await h?.stop();
  });

  it('answers 429 with Retry-After to a flood of bad tokens from one address, counted across both processes', async () => {
    const answers = await flood(400, 20, (i) =>
      call(urls()[i % 2]!, 'GET', '/v1/clusters', `cld_bad_${i}`, { 'x-forwarded-for': '203.0.113.7' }),
    );
    const counts = statusCounts(answers);
    console.log(`[rate-limits] 400 bad tokens over two API processes: ${JSON.stringify(counts)}`);
    // One shared count: each process alone would have let 20 through.
    assert.deepEqual(counts, { 401: 20, 429: 380 });
    const limited = answers.find((r) => r.status === 429)!;
    assert.match(limited.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.ok(Number(limited.headers.get('retry-after')) <= 60);
    assert.match(limited.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const body = await limited.json();
    assert.equal(body.type, 'urn:clusterd:problem:too-many-requests');
    assert.equal(body.status, 429);
  });

  it('still serves a valid token from the limited address, and does not limit other addresses', async () => {
    for (const base of urls()) {
      assert.equal((await call(base, 'GET', '/v1/clusters', alpha, { 'x-forwarded-for': '203.0.113.7' })).status, 200);
      assert.equal((await call(base, 'GET', '/v1/clusters', 'cld_bad', { 'x-forwarded-for': '203.0.113.8' })).status, 401);
    }
    const none = await fetch(`${h.url}/v1/clusters`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(none.status, 429, 'a missing token is a failed authentication too');
  });

  it('counts an IPv6 client by its /64', async () => {
    const answers = await flood(21, 1, (i) =>
      call(urls()[i % 2]!, 'GET', '/v1/clusters', 'cld_bad', { 'x-forwarded-for': `2001:db8:5:6::${(i + 1).toString(16)}` }),
    );
    assert.deepEqual(
      answers.map((r) => r.status),
      [...Array(20).fill(401), 429],
    );
    assert.equal((await call(h.url, 'GET', '/v1/clusters', 'cld_bad', { 'x-forwarded-for': '2001:db8:5:7::1' })).status, 401);
  });

  it('limits webhook test pings per token, across both processes', async () => {
    const subscribe = async (token: string) => {
      const res = await h.api('POST', '/v1/webhooks', {
        token,
        body: { url: 'https://example.com/hooks/clusterd', events: ['operation.failed'] },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.id as string;
    };
    const mine = await subscribe(alpha);
    const theirs = await subscribe(beta);
    const answers = await flood(5, 1, (i) => call(urls()[i % 2]!, 'POST', `/v1/webhooks/${mine}/test`, alpha));
    assert.deepEqual(
      answers.map((r) => r.status),
      [202, 202, 202, 429, 429],
    );
    assert.match(answers[3]!.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.match((await answers[3]!.json()).detail, /too many webhook test pings with this token/);
    assert.equal((await call(second.url!, 'POST', `/v1/webhooks/${theirs}/test`, beta)).status, 202, "another token's pings are its own");
  });

  it('limits manual drift sweeps per token, across both processes', async () => {
    // No worker runs the sweep: the first stays running, the second is refused as a pile-on, the third is over the limit.
    const answers = await flood(3, 1, (i) => call(urls()[i % 2]!, 'POST', '/v1/drift/sweeps', h.adminToken));
    assert.deepEqual(
      answers.map((r) => r.status),
      [202, 409, 429],
    );
    assert.match(answers[2]!.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    assert.ok(Number(answers[2]!.headers.get('retry-after')) > 60, 'the window is an hour');
    const other = await h.api('POST', '/v1/tokens', { body: { name: 'second-admin', admin: true } });
    assert.equal((await call(h.url, 'POST', '/v1/drift/sweeps', other.body.token)).status, 409, 'another token has its own count');
  });

  it('describes the 429 answers and their Retry-After in the OpenAPI document', async () => {
    const doc = await (await fetch(`${h.url}/openapi.json`)).json();
    for (const [path, method] of [
      ['/v1/clusters', 'get'],
      ['/v1/webhooks/{id}/test', 'post'],
      ['/v1/drift/sweeps', 'post'],
      ['/v1/operations/{id}/events', 'get'],
    ] as const) {
      assert.ok(doc.paths[path][method].responses[429]?.headers?.['Retry-After'], `${method} ${path}`);
    }
    assert.ok(doc.paths['/v1/clusters/{name}/kubeconfig'].get.responses[503]?.headers?.['Retry-After']);
  });
});

describe('rate limits while Redis is down', () => {
  let h: Harness;

  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    h = await startHarness({
      workers: 'none',
      records: 'pglite',
      env: { REDIS_URL: 'redis://127.0.0.1:1', RATE_LIMIT_AUTH_FAILURES: '20/1m', LOG_LEVEL: 'error' },
    });
  });
  afterAll(async () => h?.stop());

  it('keeps answering, and each process limits alone from its own memory', async () => {
    const t0 = performance.now();
    const answers = await flood(30, 10, (i) => fetch(`${h.url}/v1/clusters`, { headers: { authorization: `Bearer cld_bad_${i}` } }));
    const elapsed = performance.now() - t0;
    assert.deepEqual(statusCounts(answers), { 401: 20, 429: 10 });
    assert.equal((await h.api('GET', '/v1/clusters')).status, 200);
    console.log(`[rate-limits] 30 bad tokens with Redis down answered in ${elapsed.toFixed(0)} ms`);
    // Generous: proves the requests did not wait on Redis.
    assert.ok(elapsed < 10_000);
  });
});
