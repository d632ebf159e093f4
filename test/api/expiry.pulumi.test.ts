import assert from 'node:assert/strict';
import { afterAll, describe } from 'vitest';
import { outputsOnlySpec, WITH_OUTPUTS_ONLY, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

// Expiry is under test, not a provider: the clusters are stacks of outputs only.
const it = harnessTest({
  env: {
    ...WITH_OUTPUTS_ONLY,
    ...ALLOW_LOOPBACK_RECEIVERS,
    EXPIRY_CHECK_INTERVAL_MS: '250',
    EXPIRY_WARNINGS: '1h,1m',
    CLUSTER_MAX_TTL: 'sandbox=2h',
    WEBHOOK_BACKOFF_MS: '50',
    DRIFT_SWEEP_CRON: 'off',
  },
});

describe('expiring clusters, with the real engine', () => {
  let h: Harness;
  let receiver: Receiver;
  let alpha: string;

  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  async function create(name: string, extra: Record<string, unknown>, team = 'alpha') {
    const res = await h.api('POST', '/v1/clusters', { body: { team, name, blueprint: 'outputs-only', spec: outputsOnlySpec(), ...extra } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal((await h.waitFor(res.body.operation.id)).status, 'succeeded');
    return res.body.cluster;
  }

  it.beforeAll(async ({ harness }) => {
    receiver = await startReceiver();
    h = harness;
    alpha = await h.teamToken('alpha');
    const sub = await h.api('POST', '/v1/webhooks', {
      token: alpha,
      body: { url: receiver.url('/alpha'), events: ['cluster.expiring', 'operation.succeeded'] },
    });
    assert.equal(sub.status, 201, JSON.stringify(sub.body));
  });
  afterAll(async () => {
    await receiver?.close();
  });

  it('warns before expiry, then destroys an expired cluster like any destroy', async () => {
    const cluster = await create('expires-soon', { expiresAt: inSeconds(20) });
    assert.ok(cluster.expiresAt);
    const expiring = (await receiver.waitFor('/alpha', 1, 20_000))
      .map((r) => JSON.parse(r.body))
      .filter((p) => p.type === 'cluster.expiring');
    assert.equal(expiring.length, 1, 'one warning: the tightest threshold passed (1m), not a late 1h one as well');
    assert.deepEqual(
      { cluster: expiring[0].cluster, warning: expiring[0].data.warning, expiresAt: expiring[0].data.expiresAt },
      { cluster: 'expires-soon', warning: '1m', expiresAt: cluster.expiresAt },
    );
    const deadline = Date.now() + 60_000;
    let destroy: any;
    while (!destroy && Date.now() < deadline) {
      const ops = (await h.api('GET', '/v1/clusters/expires-soon/operations')).body.items;
      destroy = ops.find((o: any) => o.kind === 'destroy');
      if (!destroy) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(destroy, 'a destroy was queued when the cluster expired');
    assert.equal(destroy.requestedBy, 'clusterd (expiry)');
    assert.equal((await h.waitFor(destroy.id, undefined, 60_000)).status, 'succeeded');
    assert.equal((await h.api('GET', '/v1/clusters/expires-soon')).body.status, 'destroyed');
  });

  it('does not destroy a cluster whose expiry was extended in between', async () => {
    // Extended at once, while it provisions: a loaded machine may take longer than 8 s to provision it.
    const created = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'extended', blueprint: 'outputs-only', spec: outputsOnlySpec(), expiresAt: inSeconds(8) },
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const patched = await h.api('PATCH', '/v1/clusters/extended', { body: { ttl: '1h' } });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.operation, null, 'changing the expiry queues nothing');
    assert.equal((await h.waitFor(created.body.operation.id)).status, 'succeeded');
    await new Promise((r) => setTimeout(r, 10_000));
    const cluster = (await h.api('GET', '/v1/clusters/extended')).body;
    assert.equal(cluster.status, 'ready');
    assert.ok(Date.parse(cluster.expiresAt) > Date.now() + 50 * 60_000);
    const kinds = (await h.api('GET', '/v1/clusters/extended/operations')).body.items.map((o: any) => o.kind);
    assert.deepEqual(kinds, ['provision']);
  });

  it("caps a team's cluster life: capped clusters expire by default, beyond the cap is refused, removal too", async () => {
    const before = Date.now();
    const capped = await h.api('POST', '/v1/clusters', {
      body: { team: 'sandbox', name: 'sandbox-one', blueprint: 'outputs-only', spec: outputsOnlySpec() },
    });
    assert.equal(capped.status, 202);
    const expires = Date.parse(capped.body.cluster.expiresAt);
    assert.ok(expires >= before + 2 * 3_600_000 - 1000 && expires <= Date.now() + 2 * 3_600_000, capped.body.cluster.expiresAt);

    const tooLong = await h.api('POST', '/v1/clusters', {
      body: { team: 'sandbox', name: 'sandbox-two', blueprint: 'outputs-only', spec: outputsOnlySpec(), ttl: '3h' },
    });
    assert.equal(tooLong.status, 403);
    assert.equal(tooLong.body.type, 'urn:clusterd:problem:team-policy');
    assert.deepEqual(
      tooLong.body.errors.map((e: any) => [e.field, e.rule]),
      [['ttl', 'policy.maxTtl']],
    );
    assert.match(tooLong.body.errors[0].message, /^is beyond the limit of 2h for clusters of team "sandbox"/);

    const removal = await h.api('PATCH', '/v1/clusters/sandbox-one', { body: { expiresAt: null } });
    assert.equal(removal.status, 403);
    assert.deepEqual(removal.body.errors[0], {
      field: 'expiresAt',
      rule: 'policy.maxTtl',
      message: 'cannot be removed: clusters of team "sandbox" live at most 2h',
    });
    assert.equal(
      (await h.api('GET', '/v1/clusters/sandbox-one')).body.expiresAt,
      capped.body.cluster.expiresAt,
      'a refused change changes nothing',
    );
  });

  it('answers 400 naming the field for a past expiry, a bad ttl, or both at once, and queues nothing', async () => {
    const jobs = await h.queuedJobs();
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ expiresAt: new Date(Date.now() - 1000).toISOString() }, 'expiresAt', 'future'],
      [{ ttl: '2 weeks' }, 'ttl', 'invalid_format'],
      [{ expiresAt: 'tomorrow' }, 'expiresAt', 'invalid_format'],
      [{ ttl: '1h', expiresAt: inSeconds(600) }, 'ttl', 'exclusive'],
    ];
    for (const [extra, field, rule] of cases) {
      const res = await h.api('POST', '/v1/clusters', {
        body: { team: 'alpha', name: 'never-made', blueprint: 'outputs-only', spec: outputsOnlySpec(), ...extra },
      });
      assert.equal(res.status, 400, JSON.stringify(extra));
      assert.deepEqual([res.body.errors[0].field, res.body.errors[0].rule], [field, rule], JSON.stringify(res.body));
    }
    assert.equal(await h.queuedJobs(), jobs);
    assert.equal((await h.api('GET', '/v1/clusters/never-made')).status, 404);
  });
});
