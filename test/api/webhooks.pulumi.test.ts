import assert from 'node:assert/strict';
import { afterAll, describe } from 'vitest';
import { verifyWebhook } from '../../src/webhooks/signature.js';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

const it = harnessTest({ env: { ...ALLOW_LOOPBACK_RECEIVERS, WEBHOOK_BACKOFF_MS: '50', WEBHOOK_MAX_ATTEMPTS: '3' } });

/** Operations that finish on the real engine announce themselves to their team's subscriptions. */
describe('operation events, with the real engine', () => {
  let h: Harness;
  let receiver: Receiver;
  const secrets: Record<string, string> = {};
  const name = 'hooked-one';

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    const tokens = { alpha: await h.teamToken('alpha'), beta: await h.teamToken('beta'), admin: h.adminToken };
    const subscriptions: Array<[string, string, string[]]> = [
      ['alpha', tokens.alpha, ['operation.succeeded', 'operation.failed', 'operation.cancelled']],
      ['beta', tokens.beta, ['operation.succeeded', 'operation.failed', 'operation.cancelled']],
      ['admin', tokens.admin, ['operation.succeeded']],
    ];
    for (const [who, token, events] of subscriptions) {
      const res = await h.api('POST', '/v1/webhooks', { token, body: { url: receiver.url(`/${who}`), events } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      secrets[who] = res.body.signingSecret;
    }
  });
  afterAll(async () => {
    await receiver?.close();
  });

  const payloads = (who: string) =>
    receiver.received
      .filter((r) => r.path === `/${who}`)
      .map((r) => verifyWebhook<any>({ secret: secrets[who]!, headers: r.headers, body: r.body }));

  it("delivers operation.succeeded to the team's and the all-teams subscriptions, not to another team's", async () => {
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec({ secretValue: 'hunter2-very-secret' }) },
    });
    assert.equal(res.status, 202);
    const op = await h.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    await receiver.waitFor('/alpha', 1, 30_000);
    await receiver.waitFor('/admin', 1, 30_000);
    const [event] = payloads('alpha');
    assert.deepEqual(event, {
      id: event.id,
      type: 'operation.succeeded',
      createdAt: event.createdAt,
      team: 'alpha',
      cluster: name,
      data: {
        operation: {
          id: op.id,
          kind: 'provision',
          status: 'succeeded',
          generation: 1,
          requestedBy: op.requestedBy,
          attempts: 1,
          queuedAt: op.queuedAt,
          startedAt: op.startedAt,
          finishedAt: op.finishedAt,
          counts: op.summary.counts,
          error: null,
          href: `/v1/operations/${op.id}`,
        },
        cluster: { name, team: 'alpha', blueprint: 'local-files', href: `/v1/clusters/${name}` },
      },
    });
    assert.equal(payloads('admin')[0].id, event.id, 'one event, one id in every subscription');
    // Give a wrongly matched delivery time to arrive before asserting that none did.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(payloads('beta').length, 0);
  });

  it('delivers operation.cancelled when a queued operation is cancelled through the API', async () => {
    const slow = await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { delayMs: 2000, tags: { round: 'two' } } } });
    assert.equal(slow.status, 202);
    const check = await h.api('POST', `/v1/clusters/${name}/drift-check`);
    const cancelled = await h.api('POST', `/v1/operations/${check.body.operation.id}/cancel`);
    assert.equal(cancelled.body.status, 'cancelled');
    await h.waitFor(slow.body.operation.id);
    await receiver.waitFor('/alpha', 3, 30_000);
    const events = payloads('alpha').map((e) => [e.type, e.data.operation.kind, e.data.operation.id]);
    assert.deepEqual(
      events.slice(1).sort(),
      [
        ['operation.cancelled', 'drift-check', check.body.operation.id],
        ['operation.succeeded', 'update', slow.body.operation.id],
      ].sort(),
    );
    assert.equal(payloads('beta').length, 0);
  });

  it('delivers operation.failed with the error code and title, not its detail', async () => {
    const failing = await h.api('PATCH', `/v1/clusters/${name}`, { body: { spec: { failOn: 'update', tags: { round: 'three' } } } });
    const op = await h.waitFor(failing.body.operation.id);
    assert.equal(op.status, 'failed');
    await receiver.waitFor('/alpha', 4, 30_000);
    const event = payloads('alpha').find((e) => e.type === 'operation.failed');
    assert.deepEqual(event.data.operation.error, { code: op.error.code, title: op.error.title });
    assert.equal(
      payloads('admin').filter((e) => e.type === 'operation.failed').length,
      0,
      'the admin subscription did not ask for failures',
    );
  });

  it('carries no secret: no spec value, no output, no signing secret', () => {
    const bodies = receiver.received.map((r) => r.body).join('\n');
    assert.ok(!bodies.includes('hunter2-very-secret'));
    assert.ok(!/secretValue|kubeconfig|outputs/.test(bodies));
    for (const secret of Object.values(secrets)) assert.ok(!bodies.includes(secret));
  });
});
