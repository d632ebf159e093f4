import { describe, expect } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';

/** Team policies and quotas through the HTTP API: checked before anything is recorded. No worker: nothing needs to run. */
const it = harnessTest({ workers: 'none', records: 'auto' });

const fieldsOf = (body: any) => (body.errors ?? []).map((e: any) => `${e.field}|${e.rule}`);

describe('team policies and quotas', () => {
  let h: Harness;
  let alpha: string;
  const create = (name: string, over: Record<string, unknown> = {}, token = alpha) =>
    h.api('POST', '/v1/clusters', { token, body: { name, blueprint: 'local-files', spec: localSpec(), labels: { env: 'dev' }, ...over } });

  it.beforeAll(async ({ harness }) => {
    h = harness;
    alpha = await h.teamToken('alpha');
  });

  it('is set by an admin, read by its team, hidden from other teams, and refused with a field and rule when malformed', async () => {
    const policy = { maxClusters: 3, maxNodes: 10, blueprints: ['local-files'], requiredLabels: { env: ['dev', 'prod'] }, maxTtl: '7d' };
    const set = await h.api('PUT', '/v1/teams/alpha/policy', { body: policy });
    expect([set.status, set.body]).toEqual([200, { team: 'alpha', policy }]);
    expect((await h.api('GET', '/v1/teams/alpha/policy', { token: alpha })).body.policy).toEqual(policy);
    expect((await h.api('PUT', '/v1/teams/alpha/policy', { token: alpha, body: policy })).status).toBe(403);
    const beta = await h.teamToken('beta');
    expect((await h.api('GET', '/v1/teams/alpha/policy', { token: beta })).status).toBe(404);
    expect((await h.api('GET', '/v1/teams/alpha', { token: beta })).status).toBe(404);
    const bad = await h.api('PUT', '/v1/teams/alpha/policy', { body: { maxNodes: 'lots', rules: { 'local-files': { regions: [] } } } });
    expect([bad.status, fieldsOf(bad.body).sort()]).toEqual([400, ['maxNodes|invalid_type', 'rules.local-files.regions|too_small']]);
    expect((await h.api('GET', '/v1/teams/alpha/policy')).body.policy).toEqual(policy);
  });

  it('refuses a create that breaks it with 403 naming each rule, and records nothing', async () => {
    const jobs = await h.queuedJobs();
    const labels = await create('no-env', { labels: {} });
    expect([labels.status, labels.body.type, fieldsOf(labels.body)]).toEqual([
      403,
      'urn:clusterd:problem:team-policy',
      ['labels.env|policy.requiredLabels'],
    ]);
    const value = await create('bad-env', { labels: { env: 'staging' } });
    expect(fieldsOf(value.body)).toEqual(['labels.env|policy.requiredLabels']);
    const ttl = await create('long-life', { ttl: '30d' });
    expect([ttl.status, fieldsOf(ttl.body)]).toEqual([403, ['ttl|policy.maxTtl']]);
    const big = await create('too-big', { spec: localSpec({ nodePools: [{ name: 'default', size: 11 }] }) });
    expect([big.status, big.body.errors]).toEqual([
      403,
      [{ field: 'spec.nodePools', rule: 'quota.maxNodes', message: expect.stringContaining('its limit is 10'), limit: 10, usage: 0 }],
    ]);
    expect(await h.queuedJobs()).toBe(jobs);
    for (const name of ['no-env', 'bad-env', 'long-life', 'too-big']) expect((await h.api('GET', `/v1/clusters/${name}`)).status).toBe(404);
  });

  it("refuses blueprints, regions and instance types the team's rules do not allow, on a create and on a change, recording nothing", async () => {
    await h.api('PUT', '/v1/teams/gamma/policy', {
      body: { blueprints: ['local-files'], rules: { 'local-files': { regions: ['eu-*'], instanceTypes: ['small-*'] } } },
    });
    const gamma = await h.teamToken('gamma');
    const spec = (region: string, instanceType: string) => localSpec({ region, nodePools: [{ name: 'default', size: 1, instanceType }] });
    const jobs = await h.queuedJobs();
    await h.api('PUT', '/v1/teams/delta/policy', { body: { blueprints: ['eks', 'gke'] } });
    const other = await create('other-blueprint', {}, await h.teamToken('delta'));
    expect([other.status, other.body.type, fieldsOf(other.body)]).toEqual([
      403,
      'urn:clusterd:problem:team-policy',
      ['blueprint|policy.blueprints'],
    ]);
    const elsewhere = await create('elsewhere', { spec: spec('us-east', 'huge-1') }, gamma);
    expect([elsewhere.status, fieldsOf(elsewhere.body)]).toEqual([
      403,
      ['spec.region|policy.regions', 'spec.nodePools.0|policy.instanceTypes'],
    ]);
    expect(elsewhere.body.errors[0].message).toBe('us-east is not a region team "gamma" may use on local-files (allowed: eu-*)');
    expect(await h.queuedJobs()).toBe(jobs);
    for (const name of ['other-blueprint', 'elsewhere']) expect((await h.api('GET', `/v1/clusters/${name}`)).status).toBe(404);

    expect((await create('allowed', { spec: spec('eu-west', 'small-1') }, gamma)).status).toBe(202);
    const patch = (instanceType: string, size = 1) =>
      h.api('PATCH', '/v1/clusters/allowed', { token: gamma, body: { spec: { nodePools: [{ name: 'default', size, instanceType }] } } });
    const bigger = await patch('huge-2');
    expect([bigger.status, fieldsOf(bigger.body)]).toEqual([403, ['spec.nodePools.0|policy.instanceTypes']]);
    expect((await h.api('GET', '/v1/clusters/allowed')).body.generation).toBe(1);
    expect((await patch('small-1', 2)).status).toBe(202);
  });

  it('accepts exactly one of two requests racing for the last place', async () => {
    expect((await create('first')).status).toBe(202);
    expect((await create('second')).status).toBe(202);
    const race = await Promise.all([create('racer-a'), create('racer-b'), create('racer-c')]);
    expect(race.map((r) => r.status).sort()).toEqual([202, 403, 403]);
    const refused = race.find((r) => r.status === 403)!;
    expect(refused.body.errors).toEqual([expect.objectContaining({ rule: 'quota.maxClusters', limit: 3, usage: 3 })]);
    const team = (await h.api('GET', '/v1/teams/alpha', { token: alpha })).body;
    expect(team.usage).toEqual({ clusters: 3, nodes: 6 });
    expect(team.limits).toEqual([
      { rule: 'quota.maxClusters', limit: 3, usage: 3, remaining: 0 },
      { rule: 'quota.maxNodes', limit: 10, usage: 6, remaining: 4 },
    ]);
  });

  it('refuses new growth once a limit is lowered below the usage, and lets everything else through', async () => {
    await h.api('PUT', '/v1/teams/alpha/policy', { body: { maxClusters: 3, maxNodes: 4 } });
    const team = (await h.api('GET', '/v1/teams/alpha', { token: alpha })).body;
    expect(team.limits[1]).toEqual({ rule: 'quota.maxNodes', limit: 4, usage: 6, remaining: -2 });
    const grow = await h.api('PATCH', '/v1/clusters/first', {
      token: alpha,
      body: { spec: { nodePools: [{ name: 'default', size: 3 }] } },
    });
    expect([grow.status, fieldsOf(grow.body)]).toEqual([403, ['spec.nodePools|quota.maxNodes']]);
    const shrink = await h.api('PATCH', '/v1/clusters/first', {
      token: alpha,
      body: { spec: { nodePools: [{ name: 'default', size: 1 }] } },
    });
    expect(shrink.status).toBe(202);
    const relabel = await h.api('PATCH', '/v1/clusters/second', { token: alpha, body: { labels: { env: 'anything' } } });
    expect(relabel.status, 'the policy no longer requires labels').toBe(202);
    expect((await h.api('GET', '/v1/teams/alpha', { token: alpha })).body.usage).toEqual({ clusters: 3, nodes: 5 });
    // Removed: nothing holds the team but the service's defaults.
    expect((await h.api('DELETE', '/v1/teams/alpha/policy')).status).toBe(204);
    expect((await create('fourth')).status).toBe(202);
  });

  it('refuses a rollout that would take a team past its node quota as a whole, naming each member, and records nothing', async () => {
    const usage = (await h.api('GET', '/v1/teams/alpha', { token: alpha })).body.usage.nodes;
    const rollout = (maxNodes: number) => ({
      name: `grow-${maxNodes}`,
      selector: { blueprint: 'local-files', team: 'alpha' },
      change: { spec: { nodePools: [{ name: 'default', size: 3 }] } },
      strategy: { stages: [{ name: 'all', maxConcurrency: 1 }] },
    });
    // Every cluster of the team grows to 3 nodes: more than a limit just above today's usage.
    await h.api('PUT', '/v1/teams/alpha/policy', { body: { maxNodes: usage + 1 } });
    const refused = await h.api('POST', '/v1/rollouts', { body: rollout(usage + 1) });
    expect([refused.status, refused.body.type], JSON.stringify(refused.body)).toEqual([403, 'urn:clusterd:problem:team-policy']);
    expect(new Set(refused.body.errors.map((e: any) => `${e.rule}:${e.limit}/${e.usage}`))).toEqual(
      new Set([`quota.maxNodes:${usage + 1}/${usage}`]),
    );
    expect((await h.api('GET', '/v1/rollouts')).body.items).toEqual([]);
    await h.api('PUT', '/v1/teams/alpha/policy', { body: { maxNodes: usage + 100 } });
    expect((await h.api('POST', '/v1/rollouts', { body: rollout(usage + 100) })).status).toBe(201);
  });
});
