import assert from 'node:assert/strict';
import { afterAll, describe } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';
import { redisUrl, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

const it = harnessTest({
  env: { ...ALLOW_LOOPBACK_RECEIVERS, WEBHOOK_BACKOFF_MS: '50', WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_TIMEOUT_MS: '2000' },
});

/** Subscriptions over HTTP and deliveries through the real queue to a real receiver; no engine run. */
describe('webhooks over HTTP, delivered through the queue', () => {
  let h: Harness;
  let receiver: Receiver;
  let alpha: string;
  let beta: string;
  const secrets = new Set<string>();

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    alpha = await h.teamToken('alpha');
    beta = await h.teamToken('beta');
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const subscribe = async (path: string, token: string, body: Record<string, unknown> = {}) => {
    const res = await h.api('POST', '/v1/webhooks', { token, body: { url: receiver.url(path), events: ['operation.succeeded'], ...body } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    secrets.add(res.body.signingSecret);
    return res.body as { id: string; signingSecret: string; team: string | null };
  };
  /** Polls the delivery log until its newest delivery is settled. */
  const settled = async (id: string, token = h.adminToken) => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await h.api('GET', `/v1/webhooks/${id}/deliveries`, { token });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const newest = res.body.items[0];
      if (newest && newest.status !== 'pending') return newest;
      if (Date.now() > deadline) throw new Error(`delivery still pending: ${JSON.stringify(newest)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  describe('POST /v1/webhooks', () => {
    it('answers 201 with the signing secret once; reads and lists never show it', async () => {
      const res = await h.api('POST', '/v1/webhooks', {
        token: alpha,
        body: { url: receiver.url('/once'), events: ['operation.failed', 'drift.detected'], description: 'pager' },
      });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v1/webhooks/${res.body.id}`);
      assert.match(res.body.signingSecret, /^whsec_/);
      secrets.add(res.body.signingSecret);
      const { signingSecret, ...rest } = res.body;
      assert.deepEqual(
        { ...rest, createdAt: undefined, createdBy: undefined },
        {
          id: res.body.id,
          team: 'alpha',
          url: receiver.url('/once'),
          events: ['operation.failed', 'drift.detected'],
          description: 'pager',
          active: true,
          createdAt: undefined,
          createdBy: undefined,
          links: {
            self: `/v1/webhooks/${res.body.id}`,
            deliveries: `/v1/webhooks/${res.body.id}/deliveries`,
            test: `/v1/webhooks/${res.body.id}/test`,
          },
        },
      );
      const read = await h.api('GET', `/v1/webhooks/${res.body.id}`, { token: alpha });
      assert.deepEqual(read.body, rest);
      const list = await h.api('GET', '/v1/webhooks', { token: alpha });
      assert.ok(list.body.items.some((w: any) => w.id === res.body.id));
      assert.ok(!JSON.stringify([read.body, list.body]).includes(signingSecret));
    });

    it("subscribes an admin's webhook to every team when no team is given, or to the team named", async () => {
      assert.equal((await subscribe('/admin-all', h.adminToken)).team, null);
      assert.equal((await subscribe('/admin-beta', h.adminToken, { team: 'beta' })).team, 'beta');
    });

    const fieldsOf = (body: any) => body.errors.map((e: any) => `${e.field}|${e.rule}`).sort();
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['a URL that is not one', { url: 'not a url', events: ['operation.failed'] }, ['url|url']],
      ['a scheme other than http(s)', { url: 'ftp://example.com/hook', events: ['operation.failed'] }, ['url|protocol']],
      [
        'a user name and password in the URL',
        { url: 'https://user:pw@example.com/hook', events: ['operation.failed'] },
        ['url|no_userinfo'],
      ],
      ['a URL a parser would repair (one slash)', { url: 'https:/example.com/hook', events: ['operation.failed'] }, ['url|url']],
      ['a host not in ASCII (punycode it)', { url: 'https://bücher.example/hook', events: ['operation.failed'] }, ['url|url']],
      [
        'a host that is no IPv4 address although it ends in a number',
        { url: 'https://1.2.3.999/hook', events: ['operation.failed'] },
        ['url|url'],
      ],
      ['no event type', { url: 'https://example.com/hook', events: [] }, ['events|too_small']],
      ['an unknown event type', { url: 'https://example.com/hook', events: ['cluster.exploded'] }, ['events.0|invalid_value']],
      ['a repeated event type', { url: 'https://example.com/hook', events: ['drift.detected', 'drift.detected'] }, ['events|unique']],
      ['another team than its own', { url: 'https://example.com/hook', events: ['drift.detected'], team: 'beta' }, ['team|own_team']],
      ['an unknown field', { url: 'https://example.com/hook', events: ['drift.detected'], secret: 'mine' }, ['secret|unknown_field']],
      ['no url', { events: ['drift.detected'] }, ['url|invalid_type']],
    ];
    for (const [what, body, fields] of cases) {
      it(`answers 400 naming the field for ${what}`, async () => {
        const res = await h.api('POST', '/v1/webhooks', { token: alpha, body });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }

    it('answers 400 for a malformed id', async () => {
      assert.equal((await h.api('GET', '/v1/webhooks/not-a-uuid')).status, 400);
    });
  });

  describe("another team's subscription", () => {
    it('answers 404 to every route and is left out of the list', async () => {
      const theirs = await subscribe('/beta-only', beta);
      for (const [method, path] of [
        ['GET', ''],
        ['DELETE', ''],
        ['GET', '/deliveries'],
        ['POST', '/test'],
      ] as const) {
        const res = await h.api(method, `/v1/webhooks/${theirs.id}${path}`, { token: alpha });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.type, 'urn:clusterd:problem:not-found');
      }
      const list = await h.api('GET', '/v1/webhooks', { token: alpha });
      assert.ok(list.body.items.every((w: any) => w.team === 'alpha'));
      assert.equal((await h.api('GET', `/v1/webhooks/${theirs.id}`)).status, 200, 'admin sees it');
    });
  });

  describe('deliveries', () => {
    it('sends a signed ping that verifies with the secret, and refuses it tampered or replayed late', async () => {
      const sub = await subscribe('/ping', alpha);
      const sent = await h.api('POST', `/v1/webhooks/${sub.id}/test`, { token: alpha });
      assert.equal(sent.status, 202);
      assert.equal(sent.body.event.type, 'ping');
      const [request] = await receiver.waitFor('/ping', 1);
      assert.equal(request!.headers['clusterd-webhook-id'], sent.body.id);
      assert.equal(request!.headers['content-type'], 'application/json');
      const payload = verifyWebhook<any>({ secret: sub.signingSecret, headers: request!.headers, body: request!.body, toleranceSec: 300 });
      assert.deepEqual(
        { ...payload, createdAt: undefined, data: { subscriptionId: payload.data.subscriptionId } },
        {
          id: sent.body.event.id,
          type: 'ping',
          createdAt: undefined,
          team: 'alpha',
          cluster: null,
          data: { subscriptionId: sub.id },
        },
      );
      assert.throws(
        () => verifyWebhook({ secret: sub.signingSecret, headers: request!.headers, body: request!.body.replace('ping', 'pong') }),
        /no signature matches/,
      );
      const later = new Date(Number(request!.headers['clusterd-webhook-timestamp']) * 1000 + 301_000);
      assert.throws(
        () => verifyWebhook({ secret: sub.signingSecret, headers: request!.headers, body: request!.body, now: later }),
        /outside the tolerance/,
      );
      const delivery = await settled(sub.id, alpha);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.attemptCount, 1);
    });

    it('retries a failing receiver with backoff: 500, 500, then 200 ends succeeded after 3 attempts', async () => {
      receiver.answer('/flaky', [500, 500, 200]);
      const sub = await subscribe('/flaky', alpha);
      await h.api('POST', `/v1/webhooks/${sub.id}/test`, { token: alpha });
      const delivery = await settled(sub.id, alpha);
      assert.equal(delivery.status, 'succeeded', JSON.stringify(delivery));
      assert.equal(delivery.attemptCount, 3);
      assert.equal(delivery.lastStatusCode, 200);
      assert.equal(delivery.lastError, null);
      assert.deepEqual(
        delivery.attempts.map((a: any) => [a.attempt, a.statusCode, a.error]),
        [
          [1, 500, 'answered HTTP 500'],
          [2, 500, 'answered HTTP 500'],
          [3, 200, null],
        ],
      );
      for (const a of delivery.attempts) assert.ok(Number.isInteger(a.durationMs) && a.durationMs >= 0 && !Number.isNaN(Date.parse(a.at)));
      const requests = await receiver.waitFor('/flaky', 3);
      assert.equal(new Set(requests.map((r) => r.headers['clusterd-webhook-id'])).size, 1, 'one delivery id across retries');
      for (const r of requests) assert.ok(verifyWebhook({ secret: sub.signingSecret, headers: r.headers, body: r.body }));
    });

    it('ends failed after the last allowed attempt, and its job data is the delivery id alone', async () => {
      receiver.answer('/down', [503]);
      const sub = await subscribe('/down', alpha);
      const sent = await h.api('POST', `/v1/webhooks/${sub.id}/test`, { token: alpha });
      const delivery = await settled(sub.id, alpha);
      assert.equal(delivery.status, 'failed');
      assert.equal(delivery.attemptCount, 3);
      assert.deepEqual(
        delivery.attempts.map((a: any) => a.statusCode),
        [503, 503, 503],
      );
      assert.equal(delivery.lastError, 'answered HTTP 503');
      assert.equal(delivery.nextAttemptAt, null);
      assert.ok(delivery.finishedAt);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await receiver.waitFor('/down', 3)).length, 3, 'no attempt after the last');
      const redis = new Redis(redisUrl());
      try {
        const job = await redis.hgetall(`${h.env.QUEUE_PREFIX}:webhooks:${sent.body.id}`);
        assert.deepEqual(JSON.parse(job.data!), { deliveryId: sent.body.id });
        assert.ok(!JSON.stringify(job).includes(sub.signingSecret));
      } finally {
        await redis.quit();
      }
    });

    it('records a refused connection in fixed words, retried like any failure', async () => {
      const closed = await startReceiver();
      const url = closed.url('/gone');
      await closed.close();
      const res = await h.api('POST', '/v1/webhooks', { token: alpha, body: { url, events: ['drift.detected'] } });
      secrets.add(res.body.signingSecret);
      await h.api('POST', `/v1/webhooks/${res.body.id}/test`, { token: alpha });
      const delivery = await settled(res.body.id, alpha);
      assert.equal(delivery.status, 'failed');
      assert.deepEqual(
        delivery.attempts.map((a: any) => [a.statusCode, a.error]),
        [
          [null, 'connection refused'],
          [null, 'connection refused'],
          [null, 'connection refused'],
        ],
      );
      assert.equal(delivery.lastError, 'connection refused', 'fixed words: no address, no port');
    });

    it('sends a delivery recorded while Redis was down, once the requeue pass finds it overdue', async () => {
      const sub = await subscribe('/stranded', alpha);
      // What publish leaves behind when Redis refuses the job: a pending delivery and no job.
      const client = new pg.Client({ connectionString: h.env.DATABASE_URL });
      await client.connect();
      try {
        const eventId = '00000000-0000-4000-8000-000000000001';
        const payload = {
          id: eventId,
          type: 'operation.succeeded',
          createdAt: new Date().toISOString(),
          team: 'alpha',
          cluster: 'c1',
          data: {},
        };
        await client.query(
          `INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, payload, next_attempt_at)
           VALUES (gen_random_uuid(), $1, $2, 'operation.succeeded', $3::jsonb, now() - interval '1 minute')`,
          [sub.id, eventId, JSON.stringify(payload)],
        );
      } finally {
        await client.end();
      }
      const [request] = await receiver.waitFor('/stranded', 1, 15_000);
      assert.equal(
        verifyWebhook<any>({ secret: sub.signingSecret, headers: request!.headers, body: request!.body }).type,
        'operation.succeeded',
      );
      assert.equal((await settled(sub.id, alpha)).status, 'succeeded');
    });

    it('pages the delivery log newest first', async () => {
      const sub = await subscribe('/pages', alpha);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await h.api('POST', `/v1/webhooks/${sub.id}/test`, { token: alpha })).body.id);
      const first = await h.api('GET', `/v1/webhooks/${sub.id}/deliveries?limit=2`, { token: alpha });
      assert.deepEqual(
        first.body.items.map((d: any) => d.id),
        [ids[2], ids[1]],
      );
      const second = await h.api('GET', `/v1/webhooks/${sub.id}/deliveries?limit=2&cursor=${first.body.nextCursor}`, { token: alpha });
      assert.deepEqual(
        second.body.items.map((d: any) => d.id),
        [ids[0]],
      );
      assert.equal(second.body.nextCursor, null);
    });

    it('never puts a signing secret in a delivery payload or the delivery log', async () => {
      const everything: unknown[] = [];
      for (const w of (await h.api('GET', '/v1/webhooks')).body.items)
        everything.push((await h.api('GET', `/v1/webhooks/${w.id}/deliveries?limit=200`)).body);
      const text = JSON.stringify(everything) + receiver.received.map((r) => r.body).join('\n');
      assert.ok(secrets.size >= 5);
      for (const secret of secrets) assert.ok(!text.includes(secret), 'a signing secret leaked');
    });
  });

  describe('DELETE /v1/webhooks/{id}', () => {
    it('answers 204, then the subscription is gone', async () => {
      const sub = await subscribe('/deleted', alpha);
      assert.equal((await h.api('DELETE', `/v1/webhooks/${sub.id}`, { token: alpha })).status, 204);
      assert.equal((await h.api('GET', `/v1/webhooks/${sub.id}`, { token: alpha })).status, 404);
    });
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await (await fetch(`${h.url}/openapi.json`)).json();
    assert.ok(doc.paths['/v1/webhooks'].post && doc.paths['/v1/webhooks/{id}/deliveries'].get && doc.paths['/v1/webhooks/{id}/test'].post);
    assert.deepEqual(doc.components.schemas.CreateWebhookRequest.required, ['url', 'events']);
    assert.match(
      doc.components.schemas.CreateWebhookRequest.properties.url.description,
      /public address.*internal_address.*WEBHOOK_ALLOWED_NETWORKS/,
    );
  });
});
