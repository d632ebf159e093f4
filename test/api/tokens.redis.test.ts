import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, startHarness, type Harness } from '../support/harness.js';
import { OpenApiContract } from '../support/openapi-contract.js';

/**
 * Tokens with roles, expiry and revocation, through the HTTP API (no worker: nothing here needs an
 * engine run; a rollout stays pending, which is enough to see who may approve it).
 */
describe('tokens with roles', () => {
  let h: Harness;
  let contract: OpenApiContract;

  beforeAll(async () => {
    h = await startHarness({ workers: 'none' });
    contract = new OpenApiContract(await (await fetch(`${h.url}/openapi.json`)).json());
  });
  afterAll(async () => h?.stop());

  /** A raw answer, held to the description. */
  async function call(method: string, url: string, token: string | null, body?: unknown) {
    const res = await fetch(h.url + url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    contract.check(method, url, { status: res.status, headers: res.headers, text });
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: text && /json/.test(res.headers.get('content-type') ?? '') ? JSON.parse(text) : text,
    };
  }

  const issue = async (body: Record<string, unknown>) => {
    const res = await call('POST', '/v1/tokens', h.adminToken, { name: `t-${randomUUID().slice(0, 8)}`, ...body });
    assert.equal(res.status, 201, res.text);
    return res.body;
  };
  const rulesOf = (body: any) => body.errors.map((e: any) => `${e.field}|${e.rule}`);

  describe('POST /v1/tokens', () => {
    it('issues a member by default, each role when asked, and an admin for role: admin or admin: true', async () => {
      const member = await issue({ team: 'alpha' });
      assert.deepEqual(Object.keys(member).sort(), [
        'createdAt',
        'expiresAt',
        'id',
        'name',
        'revokedAt',
        'revokedBy',
        'role',
        'state',
        'team',
        'token',
      ]);
      assert.deepEqual(
        { role: member.role, team: member.team, state: member.state, expiresAt: member.expiresAt },
        { role: 'member', team: 'alpha', state: 'active', expiresAt: null },
      );
      for (const role of ['approver', 'viewer'] as const) assert.equal((await issue({ team: 'alpha', role })).role, role);
      assert.deepEqual([(await issue({ role: 'admin' })).role, (await issue({ admin: true })).role], ['admin', 'admin']);
      assert.equal((await issue({ admin: true, role: 'admin' })).team, null);
    });

    it('answers with a Location, and an expiry from a ttl or a time', async () => {
      const res = await call('POST', '/v1/tokens', h.adminToken, { name: 'expiring', team: 'alpha', ttl: '90d' });
      assert.equal(res.headers.get('location'), `/v1/tokens/${res.body.id}`);
      const life = Date.parse(res.body.expiresAt) - Date.parse(res.body.createdAt);
      assert.ok(Math.abs(life - 90 * 86_400_000) < 60_000, res.body.expiresAt);
      const at = new Date(Date.now() + 86_400_000).toISOString();
      assert.equal((await issue({ team: 'alpha', expiresAt: at })).expiresAt, at);
    });

    it('refuses a body whose role, admin and team disagree, or an expiry in the past or beyond ten years, naming the rule', async () => {
      const cases: Array<[Record<string, unknown>, string[]]> = [
        [{}, ['team|team_by_role']],
        [{ role: 'viewer' }, ['team|team_by_role']],
        [{ role: 'admin', team: 'alpha' }, ['team|team_by_role']],
        [{ admin: true, role: 'approver' }, ['admin|role_agrees']],
        [{ team: 'alpha', expiresAt: '2020-01-01T00:00:00Z' }, ['expiresAt|future']],
        [{ team: 'alpha', ttl: '3651d' }, ['ttl|max']],
        [{ team: 'alpha', ttl: '1d', expiresAt: '2099-01-01T00:00:00Z' }, ['ttl|exclusive']],
      ];
      for (const [body, rules] of cases) {
        const res = await call('POST', '/v1/tokens', h.adminToken, { name: 'refused', ...body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.deepEqual(rulesOf(res.body), rules, JSON.stringify(body));
      }
    });
  });

  describe('GET /v1/tokens', () => {
    it('lists tokens newest first, by team and state, in pages, never with their value', async () => {
      const team = `list-${randomUUID().slice(0, 6)}`;
      const issued = [await issue({ team }), await issue({ team, role: 'viewer' }), await issue({ team, role: 'approver' })];
      assert.equal((await call('DELETE', `/v1/tokens/${issued[1].id}`, h.adminToken)).status, 204);
      const listed = await call('GET', `/v1/tokens?team=${team}`, h.adminToken);
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.items.map((t: any) => [t.id, t.state]),
        [
          [issued[2].id, 'active'],
          [issued[1].id, 'revoked'],
          [issued[0].id, 'active'],
        ],
      );
      const every = await call('GET', '/v1/tokens?limit=200', h.adminToken);
      for (const t of issued) assert.ok(!every.text.includes(t.token) && !listed.text.includes(t.token), 'no value is listed');
      assert.ok(every.body.items.every((t: any) => !('token' in t)));
      const active = await call('GET', `/v1/tokens?team=${team}&state=active&limit=1`, h.adminToken);
      assert.deepEqual(
        active.body.items.map((t: any) => t.id),
        [issued[2].id],
      );
      const next = await call('GET', `/v1/tokens?team=${team}&state=active&limit=1&cursor=${active.body.nextCursor}`, h.adminToken);
      const { token: _value, ...oldest } = issued[0];
      assert.deepEqual(next.body, { items: [oldest], nextCursor: null });
      const one = await call('GET', `/v1/tokens/${issued[1].id}`, h.adminToken);
      assert.equal(one.body.state, 'revoked');
      assert.equal(one.body.token, undefined);
      assert.equal(one.headers.get('cache-control'), 'private, no-cache');
      assert.equal((await call('GET', `/v1/tokens/${randomUUID()}`, h.adminToken)).status, 404);
    });

    it('is an admin’s: a team token of any role gets 403', async () => {
      for (const role of ['member', 'approver', 'viewer'] as const) {
        const token = await h.teamToken('alpha', role);
        assert.equal((await call('GET', '/v1/tokens', token)).status, 403, role);
        assert.equal((await call('GET', `/v1/tokens/${randomUUID()}`, token)).status, 403, role);
        assert.equal((await call('DELETE', `/v1/tokens/${randomUUID()}`, token)).status, 403, role);
      }
    });
  });

  describe('DELETE /v1/tokens/{id}', () => {
    it('revokes a token at once; a second revocation, or one of an unknown id, is 404', async () => {
      const victim = await issue({ team: 'alpha' });
      assert.equal((await call('GET', '/v1/clusters', victim.token)).status, 200);
      assert.equal((await call('DELETE', `/v1/tokens/${victim.id}`, h.adminToken)).status, 204);
      assert.equal((await call('GET', '/v1/clusters', victim.token)).status, 401);
      const again = await call('DELETE', `/v1/tokens/${victim.id}`, h.adminToken);
      assert.equal(again.status, 404);
      assert.match(again.body.detail, /not revoked already/);
      assert.equal((await call('DELETE', `/v1/tokens/${randomUUID()}`, h.adminToken)).status, 404);
    });

    it('refuses to revoke the last active admin token (409, saying why), and revokes an admin token while another remains', async () => {
      const active = (await call('GET', '/v1/tokens?state=active&limit=200', h.adminToken)).body.items.filter(
        (t: any) => t.role === 'admin',
      );
      const bootstrap = active.find((t: any) => t.name === 'bootstrap-admin');
      assert.ok(bootstrap, JSON.stringify(active));
      for (const t of active)
        if (t.id !== bootstrap.id) assert.equal((await call('DELETE', `/v1/tokens/${t.id}`, h.adminToken)).status, 204);
      const refused = await call('DELETE', `/v1/tokens/${bootstrap.id}`, h.adminToken);
      assert.equal(refused.status, 409);
      assert.match(refused.body.detail, /is the last active admin token: .*issue another admin token first/);
      // With a second admin, the first one can go (here: revoking itself, its last request).
      const second = await issue({ role: 'admin' });
      assert.equal((await call('DELETE', `/v1/tokens/${second.id}`, second.token)).status, 204);
      assert.equal((await call('GET', '/v1/tokens', second.token)).status, 401);
    });
  });

  it('answers an unknown, an expired and a revoked token the same: status, body and headers', async () => {
    const expiring = await issue({ team: 'alpha', expiresAt: new Date(Date.now() + 2_000).toISOString() });
    const revoked = await issue({ team: 'alpha' });
    await call('DELETE', `/v1/tokens/${revoked.id}`, h.adminToken);
    const deadline = Date.now() + 15_000;
    while ((await call('GET', '/v1/clusters', expiring.token)).status === 200) {
      assert.ok(Date.now() < deadline, 'the token never expired');
      await new Promise((r) => setTimeout(r, 200));
    }
    const answers = [];
    for (const token of [`cld_${randomUUID()}`, expiring.token, revoked.token]) {
      const res = await call('GET', '/v1/clusters', token);
      answers.push({
        status: res.status,
        text: res.text,
        headers: ['www-authenticate', 'content-type', 'cache-control', 'content-length'].map((n) => res.headers.get(n)),
      });
    }
    assert.equal(answers[0]!.status, 401);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    assert.match(answers[0]!.headers[0]!, /error="invalid_token", error_description="the token is unknown, expired or revoked"/);
  });

  describe('a viewer', () => {
    let viewer: string;
    let member: string;
    const cluster = `viewed-${randomUUID().slice(0, 6)}`;
    let operationId: string;

    beforeAll(async () => {
      viewer = await h.teamToken('alpha', 'viewer');
      member = await h.teamToken('alpha');
      const created = await call('POST', '/v1/clusters', member, { name: cluster, blueprint: 'local-files', spec: localSpec() });
      assert.equal(created.status, 202, created.text);
      operationId = created.body.operation.id;
    });

    it('is refused (403) every operation of the description that is not a read, before its route runs', async () => {
      const refused: string[] = [];
      for (const [template, item] of Object.entries<any>(contract.description.paths)) {
        if (!template.startsWith('/v1/')) continue;
        for (const [method, operation] of Object.entries<any>(item)) {
          if (method === 'get') continue;
          const url = template.replace('{name}', cluster).replace('{id}', randomUUID()).replace('{team}', 'alpha');
          const res = await call(method.toUpperCase(), url, viewer);
          assert.equal(res.status, 403, `${operation.operationId}: ${res.text}`);
          assert.equal(res.body.type, 'urn:clusterd:problem:forbidden');
          assert.match(res.body.detail, /read-only \(role viewer\)/);
          refused.push(operation.operationId);
        }
      }
      for (const id of [
        'createCluster',
        'updateCluster',
        'destroyCluster',
        'createToken',
        'revokeToken',
        'approveRollout',
        'createWebhook',
      ])
        assert.ok(refused.includes(id), id);
      // Nothing was done: the cluster has its first spec and its provision only.
      const read = await call('GET', `/v1/clusters/${cluster}`, viewer);
      assert.deepEqual([read.status, read.body.generation, read.body.status], [200, 1, 'provisioning']);
      const history = await call('GET', `/v1/clusters/${cluster}/operations`, viewer);
      assert.deepEqual(
        history.body.items.map((o: any) => o.id),
        [operationId],
      );
    });

    it('reads its team’s clusters, who read a kubeconfig, and an operation’s event stream, but never a kubeconfig', async () => {
      assert.ok((await call('GET', '/v1/clusters', viewer)).body.items.some((c: any) => c.name === cluster));
      const kubeconfig = await call('GET', `/v1/clusters/${cluster}/kubeconfig`, viewer);
      assert.equal(kubeconfig.status, 403);
      assert.equal(kubeconfig.body.detail, 'a viewer token never reads a secret such as a kubeconfig');
      assert.equal(kubeconfig.headers.get('cache-control'), 'no-store');
      // A member is told what there is: no kubeconfig yet (never provisioned here).
      assert.equal((await call('GET', `/v1/clusters/${cluster}/kubeconfig`, member)).status, 404);
      assert.deepEqual((await call('GET', `/v1/clusters/${cluster}/kubeconfig/reads`, viewer)).body, { items: [] });
      const stop = new AbortController();
      const stream = await fetch(`${h.url}/v1/operations/${operationId}/events`, {
        headers: { authorization: `Bearer ${viewer}` },
        signal: stop.signal,
      });
      assert.equal(stream.status, 200);
      assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
      stop.abort();
    });
  });

  it('approvals: an admin or an approver of the team, never the token that started it; a member or a viewer never', async () => {
    const [starter, otherMember, approver, viewer, betaApprover] = [
      await h.teamToken('alpha'),
      await h.teamToken('alpha'),
      await h.teamToken('alpha', 'approver'),
      await h.teamToken('alpha', 'viewer'),
      await h.teamToken('beta', 'approver'),
    ];
    const rollout = async (token: string, set: string) => {
      const name = `approved-${set}-${randomUUID().slice(0, 6)}`;
      const created = await call('POST', '/v1/clusters', starter, { name, blueprint: 'local-files', labels: { set }, spec: localSpec() });
      assert.equal(created.status, 202, created.text);
      const res = await call('POST', '/v1/rollouts', token, {
        name: `r-${set}`,
        selector: { blueprint: 'local-files', team: 'alpha', labels: { set } },
        change: { spec: { tags: { approved: set } } },
        strategy: { stages: [{ name: 'all', maxConcurrency: 1, approval: true }] },
      });
      assert.equal(res.status, 201, res.text);
      return res.body.id as string;
    };
    const approve = (id: string, token: string) => call('POST', `/v1/rollouts/${id}/approve`, token);

    const byMember = await rollout(starter, 'one');
    const refusedMember = await approve(byMember, otherMember);
    assert.equal(refusedMember.status, 403);
    assert.equal(
      refusedMember.body.detail,
      'a member token cannot approve; that takes an admin token or an approver token of team "alpha"',
    );
    assert.match((await approve(byMember, viewer)).body.detail, /read-only/);
    assert.equal((await approve(byMember, betaApprover)).status, 404, 'another team’s rollout is not even visible');
    assert.match((await approve(byMember, starter)).body.detail, /^nobody approves their own request/);
    // Allowed: what stops them is only that the rollout (never run here) does not wait for an approval yet.
    for (const token of [approver, h.adminToken]) {
      const allowed = await approve(byMember, token);
      assert.equal(allowed.status, 409, allowed.text);
      assert.match(allowed.body.detail, /not awaiting approval/);
    }

    const byApprover = await rollout(approver, 'two');
    assert.match((await approve(byApprover, approver)).body.detail, /^nobody approves their own request/);
    const byAdmin = await rollout(h.adminToken, 'three');
    const own = await approve(byAdmin, h.adminToken);
    assert.equal(own.status, 403);
    assert.match(own.body.detail, /^nobody approves their own request/);
    assert.equal((await approve(byAdmin, approver)).status, 409, 'an approver of its team may approve an admin’s rollout of team alpha');
  });
});
