import assert from 'node:assert/strict';
import { describe } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const it = harnessTest({ workers: 'none', records: 'pglite' });

/** Security headers, caching rules and bearer challenges on real answers of the running service. */
describe('response hardening', () => {
  let h: Harness;
  let operationId: string;

  it.beforeAll(async ({ harness }) => {
    h = harness;
    const created = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'headers-one', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(created.status, 202);
    operationId = created.body.operation.id;
  });

  const SECURITY_HEADERS = {
    'content-security-policy': "default-src 'none';frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-resource-policy': 'same-origin',
    'cross-origin-opener-policy': 'same-origin',
    'strict-transport-security': 'max-age=31536000',
  };
  const assertSecurityHeaders = (headers: Headers, what: string) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(headers.get(name), value, `${what}: ${name}`);
    assert.equal(headers.get('x-powered-by'), null, `${what}: x-powered-by`);
  };

  /** Opens the event stream, keeps only status and headers, and closes it. */
  const openStream = async (headers: Record<string, string> = {}) => {
    const abort = new AbortController();
    const res = await fetch(`${h.url}/v1/operations/${operationId}/events`, {
      headers: { authorization: `Bearer ${h.adminToken}`, ...headers },
      signal: abort.signal,
    });
    abort.abort();
    await res.body?.cancel().catch(() => undefined);
    return res;
  };

  describe('security headers', () => {
    it('are on every kind of answer: success, problem, unauthenticated, unrouted, body errors, public routes and event streams', async () => {
      const answers: Array<[string, Promise<{ status: number; headers: Headers }>, number]> = [
        ['healthz', fetch(`${h.url}/healthz`), 200],
        ['readyz', fetch(`${h.url}/readyz`), 200],
        ['openapi', fetch(`${h.url}/openapi.json`), 200],
        ['list', h.api('GET', '/v1/clusters'), 200],
        ['accepted', h.api('POST', '/v1/clusters/headers-one/preview'), 202],
        ['invalid', h.api('GET', '/v1/clusters?limit=0'), 400],
        ['not json', h.api('POST', '/v1/clusters', { raw: '{', headers: { 'content-type': 'application/json' } }), 400],
        ['too large', h.api('POST', '/v1/clusters', { body: { pad: 'x'.repeat(70_000) } }), 413],
        ['no token', fetch(`${h.url}/v1/clusters`), 401],
        ['not found', h.api('GET', '/v1/clusters/no-such-one'), 404],
        ['no route', fetch(`${h.url}/nowhere`), 404],
        ['bad path encoding', h.api('GET', '/v1/clusters/%ff'), 400],
        ['event stream', openStream(), 200],
      ];
      for (const [what, pending, status] of answers) {
        const res = await pending;
        assert.equal(res.status, status, what);
        assertSecurityHeaders(res.headers, what);
      }
    });

    it('leave a valid Last-Event-ID or ?after opening the stream', async () => {
      const resumed = await openStream({ 'last-event-id': '2147483647' });
      assert.equal(resumed.status, 200);
      assert.match(resumed.headers.get('content-type') ?? '', /^text\/event-stream/);
      const abort = new AbortController();
      const res = await fetch(`${h.url}/v1/operations/${operationId}/events?after=0`, {
        headers: { authorization: `Bearer ${h.adminToken}` },
        signal: abort.signal,
      });
      assert.equal(res.status, 200);
      abort.abort();
      await res.body?.cancel().catch(() => undefined);
    });
  });

  describe('WWW-Authenticate', () => {
    it('challenges a request without a bearer token, with no error code (RFC 6750 section 3)', async () => {
      for (const authorization of [undefined, 'Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer a b']) {
        const res = await fetch(`${h.url}/v1/clusters`, { headers: authorization ? { authorization } : {} });
        assert.equal(res.status, 401, String(authorization));
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="clusterd"', String(authorization));
        assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      }
    });

    it('says invalid_token when the token given is unknown, expired or revoked', async () => {
      const res = await h.api('POST', '/v1/clusters', { token: 'cld_not-a-real-token', body: {} });
      assert.equal(res.status, 401);
      assert.equal(
        res.headers.get('www-authenticate'),
        'Bearer realm="clusterd", error="invalid_token", error_description="the token is unknown, expired or revoked"',
      );
      assert.equal(res.body.type, 'urn:clusterd:problem:unauthenticated');
    });

    it('is not sent on other answers', async () => {
      assert.equal((await h.api('GET', '/v1/clusters')).headers.get('www-authenticate'), null);
      const alpha = await h.teamToken('alpha');
      assert.equal(
        (await h.api('POST', '/v1/tokens', { token: alpha, body: { name: 'x', team: 'alpha' } })).headers.get('www-authenticate'),
        null,
      );
    });
  });

  describe('Cache-Control', () => {
    it("is no-store on the answer that carries a new token, and on that route's errors", async () => {
      const created = await h.api('POST', '/v1/tokens', { body: { name: 'ci', team: 'alpha' } });
      assert.equal(created.status, 201);
      assert.match(created.body.token, /\S{20,}/);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const refused = await h.api('POST', '/v1/tokens', { body: { name: 'bad name!', team: 'alpha' } });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('cache-control'), 'no-store');
    });

    it('is no-store on the answer that carries a webhook signing secret, and on its errors', async () => {
      const created = await h.api('POST', '/v1/webhooks', {
        body: { url: 'https://8.8.8.8/clusterd-test', events: ['operation.failed'], team: 'alpha' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.match(created.body.signingSecret, /^whsec_/);
      assert.equal(created.headers.get('cache-control'), 'no-store');
      const refused = await h.api('POST', '/v1/webhooks', {
        body: { url: 'ftp://8.8.8.8/x', events: ['operation.failed'], team: 'alpha' },
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get('cache-control'), 'no-store');
      const read = await h.api('GET', `/v1/webhooks/${created.body.id}`);
      assert.equal(read.body.signingSecret, undefined);
      assert.equal(read.headers.get('cache-control'), 'private, no-cache');
    });

    it('is no-store on the kubeconfig route even when it has nothing to give', async () => {
      const res = await h.api('GET', '/v1/clusters/headers-one/kubeconfig');
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });

    it("is no-store on the secret routes' 401 too: caching is said before the token is looked at", async () => {
      for (const [method, path] of [
        ['POST', '/v1/tokens'],
        ['POST', '/v1/webhooks'],
        ['GET', '/v1/clusters/headers-one/kubeconfig'],
      ] as const) {
        const res = await fetch(h.url + path, { method });
        assert.equal(res.status, 401, path);
        assert.equal(res.headers.get('cache-control'), 'no-store', path);
      }
      assert.equal(
        (await fetch(`${h.url}/v1/webhooks`)).headers.get('cache-control'),
        'private, no-cache',
        'GET /v1/webhooks hands out no secret',
      );
    });

    it('is private, no-cache on the other authenticated answers, and absent from public ones', async () => {
      for (const [method, path] of [
        ['GET', '/v1/clusters'],
        ['GET', '/v1/clusters/headers-one'],
        ['GET', `/v1/operations/${operationId}`],
        ['GET', '/v1/blueprints'],
        ['GET', '/v1/clusters/nope-nope'],
      ] as const) {
        assert.equal((await h.api(method, path)).headers.get('cache-control'), 'private, no-cache', path);
      }
      assert.equal((await fetch(`${h.url}/v1/clusters`)).headers.get('cache-control'), 'private, no-cache', '401');
      assert.equal((await fetch(`${h.url}/healthz`)).headers.get('cache-control'), null);
    });
  });

  describe('a method the path does not have', () => {
    it('answers 405 with Allow before authentication, and takes no Idempotency-Key', async () => {
      const noToken = await fetch(`${h.url}/v1/clusters/headers-one`, { method: 'PUT' });
      assert.equal(noToken.status, 405);
      assert.equal(noToken.headers.get('allow'), 'GET, PATCH, DELETE, HEAD, OPTIONS');
      assert.equal(noToken.headers.get('cache-control'), 'private, no-cache');
      assert.equal(noToken.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const key = { 'idempotency-key': 'fuzz-405' };
      assert.equal((await h.api('DELETE', '/v1/clusters/headers-one/preview', { headers: key })).status, 405);
      // The key was not taken by the refused request: a real one with it is accepted, not a 422.
      assert.equal((await h.api('POST', '/v1/clusters/headers-one/preview', { headers: key })).status, 202);
      assert.equal((await fetch(`${h.url}/healthz`, { method: 'POST' })).headers.get('allow'), 'GET, HEAD, OPTIONS');
    });

    it('answers OPTIONS with 204 and Allow', async () => {
      const res = await fetch(`${h.url}/v1/clusters`, { method: 'OPTIONS' });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('allow'), 'POST, GET, HEAD, OPTIONS');
    });
  });

  describe('OpenAPI', () => {
    it('describes the stream position, the bearer challenge and the no-store answers', async () => {
      const doc = await (await fetch(`${h.url}/openapi.json`)).json();
      const events = doc.paths['/v1/operations/{id}/events'].get.parameters;
      assert.deepEqual(events.find((p: any) => p.name === 'Last-Event-ID').schema, { type: 'integer', minimum: 0, maximum: 2147483647 });
      assert.deepEqual(events.find((p: any) => p.name === 'after').schema.maximum, 2147483647);
      assert.ok(doc.paths['/v1/clusters'].get.responses[401].headers['WWW-Authenticate']);
      assert.deepEqual(doc.paths['/v1/tokens'].post.responses[201].headers['Cache-Control'].schema, { const: 'no-store' });
      assert.deepEqual(doc.paths['/v1/webhooks'].post.responses[201].headers['Cache-Control'].schema, { const: 'no-store' });
      const list = doc.paths['/v1/clusters'].get.parameters;
      assert.deepEqual(list.find((p: any) => p.name === 'limit').schema, {
        description: 'Page size',
        default: 50,
        type: 'integer',
        minimum: 1,
        maximum: 200,
      });
      assert.equal(list.find((p: any) => p.name === 'cursor').schema.pattern, '^[A-Za-z0-9_-]+$');
      assert.match(doc.info.description, /deeper than 32 levels/);
    });
  });
});
