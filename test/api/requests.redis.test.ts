import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, startHarness, type Harness } from '../support/harness.js';

/** API behaviour that needs Redis and the record store but no engine run: no worker here. */
const stores = ['pglite', 'auto'] as const;
for (const records of stores)
  describe(`the HTTP API without workers, records in ${records === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ workers: 'none', records });
    });
    afterAll(async () => h?.stop());

    const fieldsOf = (body: any) => body.errors.map((e: any) => `${e.field}|${e.rule}`).sort();

    describe('bad input is answered 4xx and nothing is queued', () => {
      const cases: Array<[string, unknown, string[]]> = [
        ['a wrong type', { name: 'ok-name', blueprint: 'local-files', spec: 'big' }, ['spec|invalid_type']],
        ['an unknown field', { name: 'ok-name', blueprint: 'local-files', spec: localSpec(), region: 'x' }, ['region|unknown_field']],
        ['a name that cannot be a stack', { name: 'Prod_Cluster!', blueprint: 'local-files', spec: localSpec() }, ['name|invalid_format']],
        ['a name that is too long', { name: 'a'.repeat(41), blueprint: 'local-files', spec: localSpec() }, ['name|invalid_format']],
        ['an unknown blueprint', { name: 'ok-name', blueprint: 'nope', spec: localSpec() }, ['blueprint|enum']],
        [
          'a spec the blueprint refuses',
          { name: 'ok-name', blueprint: 'local-files', spec: localSpec({ nodePools: [{ name: 'a', size: -1 }] }) },
          ['spec.nodePools.0.size|too_small'],
        ],
        [
          'an unknown spec field',
          { name: 'ok-name', blueprint: 'local-files', spec: localSpec({ colour: 'red' }) },
          ['spec.colour|unknown_field'],
        ],
        [
          'bad labels',
          { name: 'ok-name', blueprint: 'local-files', spec: localSpec(), labels: { 'Bad Key': 'x' } },
          ['labels.Bad Key|invalid_key'],
        ],
        ['no team with an admin token', { name: 'ok-name', blueprint: 'local-files', spec: localSpec() }, ['team|required']],
      ];
      for (const [what, body, fields] of cases) {
        it(`answers 400 naming the field for ${what}`, async () => {
          const withTeam = what === 'no team with an admin token' ? body : { team: 'alpha', ...(body as object) };
          const res = await h.api('POST', '/v1/clusters', { body: withTeam });
          assert.equal(res.status, 400, JSON.stringify(res.body));
          assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
          assert.equal(res.body.type, 'urn:clusterd:problem:invalid-request');
          assert.deepEqual(fieldsOf(res.body), fields);
        });
      }

      it('answers 400 for a body that is not JSON', async () => {
        const res = await h.api('POST', '/v1/clusters', { raw: '{"name":', headers: { 'content-type': 'application/json' } });
        assert.equal(res.status, 400);
        assert.deepEqual(fieldsOf(res.body), ['(body)|json']);
      });

      it('answers 413 for an oversized body', async () => {
        const res = await h.api('POST', '/v1/clusters', {
          body: { team: 'alpha', name: 'big-one', blueprint: 'local-files', spec: localSpec({ tags: { pad: 'x'.repeat(70_000) } }) },
        });
        assert.equal(res.status, 413);
        assert.equal(res.body.type, 'urn:clusterd:problem:body-too-large');
      });

      it('answers 400 for a bad path name and a bad operation id', async () => {
        assert.equal((await h.api('GET', '/v1/clusters/UPPER')).status, 400);
        assert.equal((await h.api('GET', '/v1/operations/not-a-uuid')).status, 400);
      });

      it('queued nothing and recorded nothing', async () => {
        assert.equal(await h.queuedJobs(), 0);
        const list = await h.api('GET', '/v1/clusters');
        assert.deepEqual(list.body.items, []);
      });
    });

    describe('authentication and teams', () => {
      it('answers 401 without a token and with an unknown one', async () => {
        const none = await fetch(`${h.url}/v1/clusters`);
        assert.equal(none.status, 401);
        assert.equal((await h.api('GET', '/v1/clusters', { token: 'cld_unknown' })).status, 401);
      });

      it('needs no token for /healthz and /openapi.json', async () => {
        assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
        const doc = await (await fetch(`${h.url}/openapi.json`)).json();
        assert.equal(doc.openapi, '3.1.0');
        assert.ok(doc.components.schemas.CreateClusterRequest.properties.name);
        assert.ok(doc.components.schemas['Spec_local-files']);
      });

      it('answers /readyz with each dependency checked', async () => {
        const res = await fetch(`${h.url}/readyz`);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), {
          status: 'ready',
          checks: { recordStore: { ok: true }, redis: { ok: true }, pulumiCli: { ok: true } },
        });
      });

      it('lists the blueprints with their spec schemas', async () => {
        const res = await h.api('GET', '/v1/blueprints');
        assert.equal(res.status, 200);
        assert.deepEqual(
          res.body.items.map((b: any) => b.name),
          ['eks', 'gke', 'local-files'],
          'the built-ins and the configured module',
        );
        assert.ok(res.body.items.every((b: any) => b.specSchema.properties.nodePools));
      });

      it("hides another team's cluster (404) and shows it to admin", async () => {
        const alpha = await h.teamToken('alpha');
        const beta = await h.teamToken('beta');
        const created = await h.api('POST', '/v1/clusters', {
          token: alpha,
          body: { name: 'alpha-one', blueprint: 'local-files', spec: localSpec() },
        });
        assert.equal(created.status, 202);
        assert.equal(created.body.cluster.team, 'alpha');
        assert.equal(created.headers.get('location'), `/v1/operations/${created.body.operation.id}`);
        assert.equal((await h.api('GET', '/v1/clusters/alpha-one', { token: beta })).status, 404);
        assert.equal((await h.api('PATCH', '/v1/clusters/alpha-one', { token: beta, body: { spec: { version: '1.31' } } })).status, 404);
        assert.equal((await h.api('DELETE', '/v1/clusters/alpha-one', { token: beta })).status, 404);
        assert.equal((await h.api('GET', `/v1/operations/${created.body.operation.id}`, { token: beta })).status, 404);
        assert.equal((await h.api('POST', `/v1/operations/${created.body.operation.id}/cancel`, { token: beta })).status, 404);
        assert.deepEqual((await h.api('GET', '/v1/clusters', { token: beta })).body.items, []);
        assert.equal((await h.api('GET', '/v1/clusters/alpha-one')).status, 200);
        assert.equal((await h.api('GET', '/v1/clusters/alpha-one', { token: alpha })).body.status, 'provisioning');
      });

      it('refuses a team token creating for another team', async () => {
        const alpha = await h.teamToken('alpha');
        const res = await h.api('POST', '/v1/clusters', {
          token: alpha,
          body: { team: 'beta', name: 'x-cluster', blueprint: 'local-files', spec: localSpec() },
        });
        assert.equal(res.status, 400);
        assert.deepEqual(fieldsOf(res.body), ['team|own_team']);
      });

      it('lets only admin issue tokens', async () => {
        const alpha = await h.teamToken('alpha');
        assert.equal((await h.api('POST', '/v1/tokens', { token: alpha, body: { name: 'x', team: 'alpha' } })).status, 403);
      });
    });

    describe('accepting requests', () => {
      it('answers 409 for a name that exists', async () => {
        const body = { team: 'alpha', name: 'dup-name', blueprint: 'local-files', spec: localSpec() };
        assert.equal((await h.api('POST', '/v1/clusters', { body })).status, 202);
        const again = await h.api('POST', '/v1/clusters', { body });
        assert.equal(again.status, 409);
        assert.match(again.body.detail, /already exists/);
      });

      it('replays the first answer for a retried Idempotency-Key and queues nothing new', async () => {
        const body = { team: 'alpha', name: 'idem-one', blueprint: 'local-files', spec: localSpec() };
        const headers = { 'idempotency-key': 'create-idem-one' };
        const first = await h.api('POST', '/v1/clusters', { body, headers });
        const jobs = await h.queuedJobs();
        const second = await h.api('POST', '/v1/clusters', { body, headers });
        assert.equal(first.status, 202);
        assert.equal(second.status, 202);
        assert.equal(second.headers.get('idempotent-replayed'), 'true');
        assert.equal(second.headers.get('location'), first.headers.get('location'));
        assert.deepEqual(second.body, first.body);
        assert.equal(await h.queuedJobs(), jobs);
        const history = await h.api('GET', '/v1/clusters/idem-one/operations');
        assert.equal(history.body.items.length, 1);
        const other = await h.api('POST', '/v1/clusters', { body: { ...body, name: 'idem-two' }, headers });
        assert.equal(other.status, 422);
      });

      it('queues an update with the merged spec and a new generation', async () => {
        await h.api('POST', '/v1/clusters', {
          body: { team: 'alpha', name: 'merge-one', blueprint: 'local-files', spec: localSpec({ tags: { a: '1' } }) },
        });
        const res = await h.api('PATCH', '/v1/clusters/merge-one', { body: { spec: { tags: { b: '2' } } } });
        assert.equal(res.status, 202);
        assert.equal(res.body.operation.kind, 'update');
        assert.equal(res.body.cluster.generation, 2);
        assert.deepEqual(res.body.cluster.spec.tags, { a: '1', b: '2' });
        const bad = await h.api('PATCH', '/v1/clusters/merge-one', { body: { spec: { version: 130 } } });
        assert.equal(bad.status, 400);
        assert.deepEqual(fieldsOf(bad.body), ['spec.version|invalid_type']);
      });

      it('answers 409 to a change after a destroy is queued, and cancels a queued operation at once', async () => {
        await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name: 'doomed', blueprint: 'local-files', spec: localSpec() } });
        const destroy = await h.api('DELETE', '/v1/clusters/doomed');
        assert.equal(destroy.status, 202);
        assert.equal(destroy.body.cluster.status, 'destroying');
        const patch = await h.api('PATCH', '/v1/clusters/doomed', { body: { spec: { version: '1.31' } } });
        assert.equal(patch.status, 409);
        assert.match(patch.body.detail, /destroy queued/);
        const cancel = await h.api('POST', `/v1/operations/${destroy.body.operation.id}/cancel`);
        assert.equal(cancel.status, 202);
        assert.equal(cancel.body.status, 'cancelled');
        assert.equal((await h.api('POST', `/v1/operations/${destroy.body.operation.id}/cancel`)).status, 409);
      });

      it('filters and pages the cluster list', async () => {
        for (const n of ['page-a', 'page-b', 'page-c']) {
          await h.api('POST', '/v1/clusters', {
            body: { team: 'gamma', name: n, blueprint: 'local-files', spec: localSpec(), labels: { env: n === 'page-b' ? 'prod' : 'dev' } },
          });
        }
        const first = await h.api('GET', '/v1/clusters?team=gamma&limit=2');
        assert.deepEqual(
          first.body.items.map((c: any) => c.name),
          ['page-a', 'page-b'],
        );
        const second = await h.api('GET', `/v1/clusters?team=gamma&limit=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
        assert.deepEqual(
          second.body.items.map((c: any) => c.name),
          ['page-c'],
        );
        assert.equal(second.body.nextCursor, null);
        const prod = await h.api('GET', '/v1/clusters?team=gamma&label=env=prod');
        assert.deepEqual(
          prod.body.items.map((c: any) => c.name),
          ['page-b'],
        );
        const both = await h.api('GET', '/v1/clusters?team=gamma&label=env=prod&label=tier=web');
        assert.deepEqual(both.body.items, []);
        const conflict = await h.api('GET', '/v1/clusters?label=env=prod&label=env=dev');
        assert.equal(conflict.status, 400);
        assert.deepEqual(fieldsOf(conflict.body), ['query.label|conflict']);
        assert.equal((await h.api('GET', '/v1/clusters?status=melting')).status, 400);
      });
    });
  });
