import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import pg from 'pg';
import { SEND_FAILURES } from '../../src/webhooks/http-sender.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startReceiver, type Receiver } from '../support/receiver.js';

const NOT_ALLOWED = SEND_FAILURES.notAllowed;
const fieldsOf = (body: any) => body.errors.map((e: any) => `${e.field}|${e.rule}`);

/** Registration and delivery of webhooks whose URL points into our own network. */
describe('webhook receivers on internal addresses', () => {
  describe('with no allowance (the default)', () => {
    let h: Harness;
    let receiver: Receiver;
    let alpha: string;

    beforeAll(async () => {
      receiver = await startReceiver();
      h = await startHarness({ env: { WEBHOOK_BACKOFF_MS: '50', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000' } });
      alpha = await h.teamToken('alpha');
    });
    afterAll(async () => {
      await h?.stop();
      await receiver?.close();
    });

    const subscriptions = async () => (await h.api('GET', '/v1/webhooks', { token: alpha })).body.items.map((w: any) => w.url);

    describe('POST /v1/webhooks answers 400 (url, internal_address) and records nothing for', () => {
      const cases: Array<[string, string, RegExp]> = [
        ['loopback on the Redis port', 'http://127.0.0.1:6381/', /address \(loopback\)/],
        ['loopback written 127.1', 'http://127.1/hook', /address \(loopback\)/],
        ['loopback written as one number', 'http://2130706433/hook', /address \(loopback\)/],
        ['loopback written in hex', 'http://0x7f.0.0.1/hook', /address \(loopback\)/],
        ['loopback written in octal', 'http://0177.0.0.1/hook', /address \(loopback\)/],
        ['IPv6 loopback', 'http://[::1]:8080/hook', /address \(loopback\)/],
        ['IPv4-mapped loopback', 'http://[::ffff:127.0.0.1]/hook', /address \(loopback\)/],
        ['IPv4-mapped loopback in hex', 'http://[::ffff:7f00:1]/hook', /address \(loopback\)/],
        ['NAT64 loopback', 'http://[64:ff9b::7f00:1]/hook', /address \(loopback\)/],
        ['the unspecified IPv6 address', 'http://[::]/hook', /address \(unspecified\)/],
        ['0.0.0.0', 'http://0.0.0.0:6381/', /address \(unspecified\)/],
        ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/', /address \(link-local/],
        ['the GCP metadata name', 'http://metadata.google.internal/computeMetadata/v1/', /name \(cloud metadata name\)/],
        ['a bare metadata name', 'http://metadata/computeMetadata/v1/', /name \(single-label/],
        ['localhost', 'http://localhost:6381/', /name \(local or private name\)/],
        ['a localhost subdomain', 'https://api.localhost/hook', /name \(local or private name\)/],
        ['RFC 1918 10/8', 'https://10.0.0.1/hook', /address \(private network\)/],
        ['RFC 1918 172.16/12', 'https://172.16.5.4/hook', /address \(private network\)/],
        ['RFC 1918 192.168/16', 'https://192.168.1.1/hook', /address \(private network\)/],
        ['carrier-grade NAT', 'https://100.64.0.1/hook', /address \(carrier-grade NAT\)/],
        ['IPv6 unique local', 'https://[fd00::1]/hook', /address \(unique local\)/],
        ['IPv6 link-local', 'https://[fe80::1]/hook', /address \(link-local\)/],
        ['multicast', 'http://224.0.0.1/hook', /address \(multicast\)/],
        ['broadcast', 'http://255.255.255.255/hook', /address \(broadcast\)/],
        ['a documentation range', 'https://192.0.2.1/hook', /address \(reserved\)/],
      ];
      for (const [what, url, message] of cases) {
        it(`${what}: ${url}`, async () => {
          const res = await h.api('POST', '/v1/webhooks', { token: alpha, body: { url, events: ['operation.failed'] } });
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
          assert.deepEqual(fieldsOf(res.body), ['url|internal_address']);
          assert.match(res.body.errors[0].message, /^must not point at an internal or reserved (address|name) \(/);
          assert.match(res.body.errors[0].message, message);
          assert.deepEqual(await subscriptions(), []);
        });
      }
    });

    it('accepts public addresses, and a name that does not resolve (yet), which every delivery checks again', async () => {
      for (const url of ['https://93.184.215.14/hook', 'https://[2606:4700:4700::1111]/hook', 'https://hooks.example.com/clusterd']) {
        const res = await h.api('POST', '/v1/webhooks', { token: alpha, body: { url, events: ['operation.failed'] } });
        assert.equal(res.status, 201, `${url}: ${JSON.stringify(res.body)}`);
      }
      assert.equal((await subscriptions()).length, 3);
    });

    /** A subscription row written straight into the records: registered before this guard, or a name whose DNS changed since. */
    async function insertSubscription(url: string): Promise<string> {
      const client = new pg.Client({ connectionString: h.env.DATABASE_URL });
      await client.connect();
      try {
        const { rows } = await client.query<{ id: string }>(
          `INSERT INTO webhook_subscriptions (id, team, url, event_types, signing_secret, created_by)
           VALUES (gen_random_uuid(), 'alpha', $1, '["operation.failed"]'::jsonb, 'whsec_test_only_not_secret', 'before the guard') RETURNING id`,
          [url],
        );
        return rows[0]!.id;
      } finally {
        await client.end();
      }
    }
    const settled = async (id: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const newest = (await h.api('GET', `/v1/webhooks/${id}/deliveries`, { token: alpha })).body.items[0];
        if (newest && newest.status !== 'pending') return newest;
        if (Date.now() > deadline) throw new Error(`delivery still pending: ${JSON.stringify(newest)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };

    for (const [what, path, url] of [
      ['a loopback address', '/inserted', (p: string) => receiver.url(p)],
      ['localhost', '/by-name', (p: string) => receiver.url(p).replace('127.0.0.1', 'localhost')],
    ] as const) {
      it(`never delivers to ${what} recorded before the guard: fails at once, in words that name no address or port`, async () => {
        const id = await insertSubscription(url(path));
        const sent = await h.api('POST', `/v1/webhooks/${id}/test`, { token: alpha });
        assert.equal(sent.status, 202, JSON.stringify(sent.body));
        const delivery = await settled(id);
        assert.equal(delivery.status, 'failed');
        assert.equal(delivery.lastError, NOT_ALLOWED);
        assert.equal(delivery.lastStatusCode, null);
        assert.deepEqual(
          delivery.attempts.map((a: any) => [a.attempt, a.statusCode, a.error]),
          [[1, null, NOT_ALLOWED]],
          'final: no retry',
        );
        const port = new URL(receiver.url('/')).port;
        const log = JSON.stringify((await h.api('GET', `/v1/webhooks/${id}/deliveries`, { token: alpha })).body);
        for (const leak of ['127.0.0.1', `:${port}`, 'ECONN', 'localhost'])
          assert.ok(!log.replaceAll(url(path), '').includes(leak), `the log reveals ${leak}`);
        // Retries would come within 50 ms, 100 ms: none comes, and the receiver never saw a request.
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((await settled(id)).attemptCount, 1);
        assert.deepEqual(
          receiver.received.filter((r) => r.path === path),
          [],
        );
      });
    }
  });

  describe('with an allowance for some internal networks and hosts', () => {
    let h: Harness;
    let receiver: Receiver;
    beforeAll(async () => {
      receiver = await startReceiver();
      h = await startHarness({
        env: { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1, 10.20.0.0/16', WEBHOOK_ALLOWED_HOSTS: 'hooks.corp.internal' },
      });
    });
    afterAll(async () => {
      await h?.stop();
      await receiver?.close();
    });
    const register = (url: string) => h.api('POST', '/v1/webhooks', { body: { url, events: ['operation.failed'] } });

    it('accepts addresses inside the allowed networks and the allowed host', async () => {
      for (const url of [
        'http://10.20.3.4:8080/hook',
        'http://[::ffff:10.20.3.4]/hook',
        'https://hooks.corp.internal/clusterd',
        receiver.url('/allowed'),
      ]) {
        const res = await register(url);
        assert.equal(res.status, 201, `${url}: ${JSON.stringify(res.body)}`);
      }
    });

    it('still refuses everything else internal', async () => {
      for (const url of [
        'http://127.0.0.2/',
        'http://[::1]/',
        'http://10.21.0.1/',
        'https://x.hooks.corp.internal/',
        'http://169.254.169.254/',
      ]) {
        const res = await register(url);
        assert.equal(res.status, 400, url);
        assert.deepEqual(fieldsOf(res.body), ['url|internal_address']);
      }
    });

    it('delivers to an allowed loopback receiver', async () => {
      const sub = await register(receiver.url('/delivered'));
      assert.equal(sub.status, 201);
      assert.equal((await h.api('POST', `/v1/webhooks/${sub.body.id}/test`)).status, 202);
      const [request] = await receiver.waitFor('/delivered', 1);
      assert.equal(request!.headers['clusterd-webhook-event'], 'ping');
    });
  });
});
