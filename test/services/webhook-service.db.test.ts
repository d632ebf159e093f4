import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe } from 'vitest';
import type { WebhookEventType } from '../../src/domain/webhook-event.js';
import { admin, it, member, NOW, refusal, type World } from './support.js';

const alpha = member('alpha');
const beta = member('beta');
/** A public address: the receiver check takes it without asking DNS. */
const PUBLIC = 'https://93.184.215.14';
const subscribe = (world: World, who = alpha, events: WebhookEventType[] = ['operation.failed'], team?: string) =>
  world.webhooks.create(who, { url: `${PUBLIC}/hooks`, events, team }).then((s) => s.subscription);

describe('WebhookService.create', () => {
  it("subscribes a team token to its own team's events and returns the signing secret only here", async ({ world }) => {
    const { subscription, signingSecret } = await world.webhooks.create(alpha, {
      url: `${PUBLIC}/hooks`,
      events: ['operation.failed', 'drift.detected'],
      description: 'pager',
    });
    assert.deepEqual(
      {
        team: subscription.team,
        url: subscription.url,
        eventTypes: subscription.eventTypes,
        description: subscription.description,
        createdBy: subscription.createdBy,
        active: subscription.active,
      },
      {
        team: 'alpha',
        url: `${PUBLIC}/hooks`,
        eventTypes: ['operation.failed', 'drift.detected'],
        description: 'pager',
        createdBy: 'alpha-ci (team alpha)',
        active: true,
      },
    );
    assert.match(signingSecret, /^whsec_/);
    const reads = [await world.webhooks.get(alpha, subscription.id), await world.webhooks.list(alpha)];
    assert.deepEqual(reads[0], subscription);
    assert.ok(!JSON.stringify(reads).includes(signingSecret), 'no read shows the signing secret');
  });

  it("subscribes an admin's webhook to every team when it names none, or to the team it names", async ({ world }) => {
    assert.equal((await subscribe(world, admin)).team, null);
    assert.equal((await subscribe(world, admin, ['operation.failed'], 'beta')).team, 'beta');
  });

  it('answers 400 team|own_team to a team token naming another team, and records nothing', async ({ world }) => {
    const answer = await refusal(world.webhooks.create(alpha, { url: `${PUBLIC}/hooks`, events: ['operation.failed'], team: 'beta' }));
    assert.deepEqual([answer.status, answer.errors], [400, ['team|own_team']]);
    assert.deepEqual(await world.webhooks.list(admin), []);
  });

  const internal = [
    ['loopback', 'http://127.0.0.1:8080/hooks'],
    ['a private network', 'https://10.20.0.5/hooks'],
    ['link-local cloud metadata', 'http://169.254.169.254/latest/meta-data'],
    ['an IPv6 form embedding loopback', 'http://[::ffff:127.0.0.1]/hooks'],
    ['localhost', 'http://localhost:3000/hooks'],
    ['a cloud metadata name', 'http://metadata.google.internal/computeMetadata'],
  ];
  for (const [what, url] of internal) {
    it(`answers 400 url|internal_address for ${what}, and records nothing`, async ({ world }) => {
      const answer = await refusal(world.webhooks.create(alpha, { url: url!, events: ['operation.failed'] }));
      assert.deepEqual([answer.status, answer.errors], [400, ['url|internal_address']]);
      assert.deepEqual(await world.webhooks.list(admin), []);
    });
  }

  it('accepts an internal receiver the operator allowed, by network or by host name', async ({ world }) => {
    const webhooks = world.webhookService({ allowedNetworks: ['10.20.0.0/16'], allowedHosts: ['hooks.corp'] });
    for (const url of ['https://10.20.0.5/hooks', 'https://hooks.corp/in']) {
      assert.equal((await webhooks.create(alpha, { url, events: ['operation.failed'] })).subscription.url, url);
    }
    assert.equal((await refusal(webhooks.create(alpha, { url: 'https://10.21.0.5/hooks', events: ['operation.failed'] }))).status, 400);
  });
});

describe('team scoping of subscriptions', () => {
  it("answers another team's subscription 404 everywhere and leaves it out of the list; an admin sees them all", async ({ world }) => {
    const theirs = await subscribe(world, beta);
    const ours = await subscribe(world, alpha);
    const everyTeam = await subscribe(world, admin);
    const missing = { status: 404, detail: `no webhook with id ${theirs.id}`, errors: [] };
    assert.deepEqual(await refusal(world.webhooks.get(alpha, theirs.id)), missing);
    assert.deepEqual(await refusal(world.webhooks.deliveries(alpha, theirs.id, 10)), missing);
    assert.deepEqual(await refusal(world.webhooks.ping(alpha, theirs.id)), missing);
    assert.deepEqual(await refusal(world.webhooks.delete(alpha, theirs.id)), missing);
    assert.deepEqual(
      (await world.webhooks.list(alpha)).map((s) => s.id),
      [ours.id],
    );
    // Which, not in what order: PGlite's clock may give subscriptions made in one instant the same time.
    assert.deepEqual((await world.webhooks.list(admin)).map((s) => s.id).sort(), [theirs.id, ours.id, everyTeam.id].sort());
    assert.deepEqual(world.ports.deliveries.queued, [], 'the refused ping sent nothing');
  });

  it('deletes a subscription with its deliveries; afterwards it answers 404', async ({ world }) => {
    const sub = await subscribe(world);
    await world.webhooks.ping(alpha, sub.id);
    await world.webhooks.delete(alpha, sub.id);
    assert.equal((await refusal(world.webhooks.get(alpha, sub.id))).status, 404);
    assert.deepEqual(await world.webhooks.list(admin), []);
  });
});

describe('which subscriptions an event reaches', () => {
  const event = (type: WebhookEventType, team: string) => ({ type, team, cluster: `${team}-one`, data: {} });
  const received = async (world: World, id: string) =>
    (await world.webhooks.deliveries(admin, id, 50)).items.map((d) => `${d.eventType}/${d.payload.team}`);

  it('reaches the subscriptions of its type, of its team or of every team, and no other; each delivery is queued', async ({ world }) => {
    const failedAlpha = await subscribe(world, alpha, ['operation.failed']);
    const driftAlpha = await subscribe(world, alpha, ['drift.detected']);
    const failedBeta = await subscribe(world, beta, ['operation.failed']);
    const failedAll = await subscribe(world, admin, ['operation.failed']);
    await world.notifier.record(event('operation.failed', 'alpha'), { eventId: randomUUID(), createdAt: new Date(NOW).toISOString() });
    assert.deepEqual(await received(world, failedAlpha.id), ['operation.failed/alpha']);
    assert.deepEqual(await received(world, driftAlpha.id), []);
    assert.deepEqual(await received(world, failedBeta.id), []);
    assert.deepEqual(await received(world, failedAll.id), ['operation.failed/alpha']);
    assert.equal(world.ports.deliveries.queued.length, 2);
  });

  it('records an event once, however often its publisher retries it', async ({ world }) => {
    const sub = await subscribe(world);
    const same = { eventId: randomUUID(), createdAt: new Date(NOW).toISOString() };
    await world.notifier.record(event('operation.failed', 'alpha'), same);
    await world.notifier.record(event('operation.failed', 'alpha'), same);
    assert.deepEqual(await received(world, sub.id), ['operation.failed/alpha']);
    assert.equal(world.ports.deliveries.queued.length, 1);
  });

  it('sends a ping to that one subscription only, whatever its event types, and queues it', async ({ world }) => {
    const pinged = await subscribe(world, alpha, ['drift.detected']);
    const other = await subscribe(world, alpha, ['drift.detected']);
    const delivery = await world.webhooks.ping(alpha, pinged.id);
    assert.deepEqual(
      [delivery.eventType, delivery.subscriptionId, delivery.payload.team, delivery.payload.data],
      ['ping', pinged.id, 'alpha', { subscriptionId: pinged.id, requestedBy: 'alpha-ci (team alpha)' }],
    );
    assert.deepEqual(await received(world, other.id), []);
    assert.deepEqual(world.ports.deliveries.queued, [delivery.id]);
  });
});
