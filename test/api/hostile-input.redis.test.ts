import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { localSpec, startHarness, type ApiResponse, type Harness } from '../support/harness.js';

/**
 * Input a user and a fuzzer sent that used to answer 500 (issue 8): each is now a 400 naming the
 * field and the rule, and leaves no record and no job behind. No worker runs here, so every
 * operation accepted stays queued and countable.
 */
const stores = ['pglite', 'auto'] as const;
for (const records of stores)
  describe(`hostile input, records in ${records === 'pglite' ? 'PGlite' : 'PostgreSQL'}`, () => {
    let h: Harness;
    let operationId: string;
    let webhookId: string;
    const ID = '0f8b1c52-7d3e-4a8e-9b51-2f6c9d0e4a11';
    const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const json = { 'content-type': 'application/json' };

    beforeAll(async () => {
      h = await startHarness({ workers: 'none', records });
      const created = await h.api('POST', '/v1/clusters', {
        body: { team: 'alpha', name: 'steady', blueprint: 'local-files', spec: localSpec({ tags: { keep: 'me' } }) },
      });
      assert.equal(created.status, 202, JSON.stringify(created.body));
      operationId = created.body.operation.id;
      // A public literal address: nothing is ever delivered here (no worker runs).
      const hook = await h.api('POST', '/v1/webhooks', {
        body: { url: 'https://8.8.8.8/clusterd-test', events: ['operation.succeeded'], team: 'alpha' },
      });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      webhookId = hook.body.id;
    });
    afterAll(async () => h?.stop());

    /** Everything a refused request could have changed. */
    const snapshot = async () => {
      const clusters = await h.api('GET', '/v1/clusters?limit=200');
      const steady = await h.api('GET', '/v1/clusters/steady');
      const operations = await h.api('GET', '/v1/clusters/steady/operations?limit=200');
      const webhooks = await h.api('GET', '/v1/webhooks');
      return {
        jobs: await h.queuedJobs(),
        clusters: clusters.body.items.map((c: any) => c.name),
        steady: { generation: steady.body.generation, spec: steady.body.spec, labels: steady.body.labels },
        operations: operations.body.items.map((o: any) => o.id),
        webhooks: webhooks.body.items.map((w: any) => w.id),
      };
    };

    /** Runs `requests`, asserts each answered 400 naming exactly `fields` (field|rule), and that nothing changed. */
    const refusedWithoutTrace = async (
      requests: Array<[Promise<ApiResponse>, string[]]> | (() => Array<[Promise<ApiResponse>, string[]]>),
    ) => {
      const before = await snapshot();
      for (const [pending, fields] of typeof requests === 'function' ? requests() : requests) {
        const res = await pending;
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
        assert.equal(res.body.type, 'urn:clusterd:problem:invalid-request');
        assert.deepEqual(
          res.body.errors.map((e: any) => `${e.field}|${e.rule}`),
          fields,
          JSON.stringify(res.body),
        );
      }
      assert.deepEqual(await snapshot(), before);
    };

    describe('what used to answer 500 answers 400 and changes nothing', () => {
      it('NUL in a body string, in a body key, in a webhook URL and description', async () => {
        await refusedWithoutTrace(() => [
          [
            h.api('POST', '/v1/clusters', {
              body: { team: 'alpha', name: 'nul-value', blueprint: 'local-files', spec: localSpec({ tags: { a: 'x\u0000y' } }) },
            }),
            ['spec.tags.a|nul_character'],
          ],
          [
            h.api('POST', '/v1/clusters', {
              body: { team: 'alpha', name: 'nul-key', blueprint: 'local-files', spec: localSpec({ tags: { 'a\u0000': 'x' } }) },
            }),
            ['spec.tags.a\\u0000|nul_character'],
          ],
          [h.api('PATCH', '/v1/clusters/steady', { body: { spec: { tags: { keep: '\u0000' } } } }), ['spec.tags.keep|nul_character']],
          [
            h.api('POST', '/v1/webhooks', { body: { url: 'https://8.8.8.8/x\u0000', events: ['operation.succeeded'], team: 'alpha' } }),
            ['url|nul_character'],
          ],
          [
            h.api('POST', '/v1/webhooks', {
              body: { url: 'https://8.8.8.8/x', events: ['operation.succeeded'], team: 'alpha', description: 'pager\u0000' },
            }),
            ['description|nul_character'],
          ],
        ]);
      });

      it('lone surrogates in a body string and key (PostgreSQL jsonb refuses them; text would turn them into U+FFFD)', async () => {
        await refusedWithoutTrace(() => [
          [
            h.api('POST', '/v1/clusters', {
              raw: JSON.stringify({
                team: 'alpha',
                name: 'sur-value',
                blueprint: 'local-files',
                spec: localSpec({ tags: { a: '\ud800' } }),
              }),
              headers: json,
            }),
            ['spec.tags.a|unicode'],
          ],
          [
            h.api('POST', '/v1/clusters', {
              raw: '{"team":"alpha","name":"sur-key","blueprint":"local-files","spec":{"version":"1.30","nodePools":[{"name":"default","size":2}],"tags":{"\\udc00":"a"}}}',
              headers: json,
            }),
            ['spec.tags.\\udc00|unicode'],
          ],
          [
            h.api('POST', '/v1/webhooks', {
              body: { url: 'https://8.8.8.8/x', events: ['operation.succeeded'], team: 'alpha', description: 'x\udfff' },
            }),
            ['description|unicode'],
          ],
        ]);
      });

      it('NUL in query filters and label selectors', async () => {
        await refusedWithoutTrace(() => [
          [h.api('GET', '/v1/clusters?blueprint=a%00b'), ['query.blueprint|nul_character']],
          [h.api('GET', '/v1/clusters?label=env%00=prod'), ['query.label|nul_character']],
          [h.api('GET', '/v1/clusters?label=env=prod&label=tier=%00'), ['query.label.1|nul_character']],
          [h.api('GET', '/v1/drift?team=alpha%00'), ['query.team|nul_character']],
        ]);
      });

      it('a cluster cursor whose name holds NUL, or is no cluster name at all', async () => {
        await refusedWithoutTrace(() => [
          [h.api('GET', `/v1/clusters?cursor=${cursor({ name: 'a\u0000', id: ID })}`), ['query.cursor|cursor']],
          [h.api('GET', `/v1/clusters?cursor=${cursor({ name: 'x'.repeat(300), id: ID })}`), ['query.cursor|cursor']],
          [h.api('GET', `/v1/clusters?cursor=${cursor({ name: 'steady', id: ID, extra: true })}`), ['query.cursor|cursor']],
        ]);
      });

      it('drift cursors whose time parses in JavaScript but not in PostgreSQL', async () => {
        const drift = (at: string) => h.api('GET', `/v1/clusters/steady/drift?cursor=${cursor({ at, id: ID })}`);
        await refusedWithoutTrace(() =>
          ['1', '-000001-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2021-02-30T00:00:00Z', 'Tue Mar 01 2022'].map((at) => [
            drift(at),
            ['query.cursor|cursor'],
          ]),
        );
      });

      it('operation and delivery cursors out of their columns, or not integers', async () => {
        await refusedWithoutTrace(() => [
          [h.api('GET', `/v1/clusters/steady/operations?cursor=${cursor({ seq: -5 })}`), ['query.cursor|cursor']],
          [h.api('GET', `/v1/clusters/steady/operations?cursor=${cursor({ seq: 2 ** 63 })}`), ['query.cursor|cursor']],
          [h.api('GET', `/v1/clusters/steady/operations?cursor=${cursor({ seq: '1 OR 1=1' })}`), ['query.cursor|cursor']],
          [h.api('GET', `/v1/webhooks/${webhookId}/deliveries?cursor=${cursor({ seq: 1.5 })}`), ['query.cursor|cursor']],
          [h.api('GET', '/v1/clusters?cursor=not+base64'), ['query.cursor|invalid_format']],
        ]);
      });

      it('Last-Event-ID and ?after beyond int4 (they used to open an empty stream that never ended)', async () => {
        const events = `/v1/operations/${operationId}/events`;
        await refusedWithoutTrace(() => [
          [h.api('GET', events, { headers: { 'last-event-id': '2147483648' } }), ['header.Last-Event-ID|too_big']],
          [h.api('GET', events, { headers: { 'last-event-id': '99999999999999999999' } }), ['header.Last-Event-ID|invalid_type']],
          [h.api('GET', events, { headers: { 'last-event-id': '-1' } }), ['header.Last-Event-ID|invalid_type']],
          [h.api('GET', events, { headers: { 'last-event-id': '' } }), ['header.Last-Event-ID|invalid_type']],
          [h.api('GET', `${events}?after=2147483648`), ['query.after|too_big']],
          [h.api('GET', `${events}?after=1e3`), ['query.after|invalid_type']],
          [h.api('GET', `${events}?after=1&after=2`), ['query.after|invalid_type']],
          [h.api('GET', `${events}?from=3`), ['query.from|unknown_field']],
        ]);
      });

      it('a merge patch nested 6,000 deep, with and without an Idempotency-Key', async () => {
        const deep = '{"a":'.repeat(6000) + '1' + '}'.repeat(6000);
        const deepArrays = '['.repeat(6000) + ']'.repeat(6000);
        const at = (levels: number) => Array(levels).fill('a').join('.');
        await refusedWithoutTrace(() => [
          [h.api('PATCH', '/v1/clusters/steady', { raw: `{"spec":{"tags":${deep}}}`, headers: json }), [`spec.tags.${at(30)}|max_depth`]],
          [
            h.api('PATCH', '/v1/clusters/steady', { raw: `{"spec":{"tags":${deep}}}`, headers: { ...json, 'idempotency-key': 'deep-1' } }),
            [`spec.tags.${at(30)}|max_depth`],
          ],
          [
            h.api('POST', '/v1/clusters', {
              raw: `{"team":"alpha","name":"deep-one","blueprint":"local-files","spec":${deepArrays}}`,
              headers: { ...json, 'idempotency-key': 'deep-2' },
            }),
            [`spec.${Array(31).fill(0).join('.')}|max_depth`],
          ],
        ]);
        // The refused key was never claimed: the same key now serves a good request.
        const ok = await h.api('PATCH', '/v1/clusters/steady', { body: { driftPolicy: 'none' }, headers: { 'idempotency-key': 'deep-1' } });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
      });
    });

    describe('forbidden keys are refused, never dropped', () => {
      it('a PATCH of only __proto__ answers 400 and queues no operation', async () => {
        await refusedWithoutTrace(() => [
          [
            h.api('PATCH', '/v1/clusters/steady', { raw: '{"spec":{"__proto__":{"version":"1.31"}}}', headers: json }),
            ['spec.__proto__|forbidden_key'],
          ],
          [
            h.api('PATCH', '/v1/clusters/steady', { raw: '{"__proto__":{"spec":{"version":"1.31"}}}', headers: json }),
            ['__proto__|forbidden_key'],
          ],
          [
            h.api('PATCH', '/v1/clusters/steady', { body: { spec: { tags: { constructor: { prototype: 'x' } } } } }),
            ['spec.tags.constructor|forbidden_key'],
          ],
          [
            h.api('POST', '/v1/clusters', {
              raw: '{"team":"alpha","name":"proto-one","blueprint":"local-files","spec":{"version":"1.30","nodePools":[{"name":"default","size":2,"__proto__":{"size":1}}]}}',
              headers: json,
            }),
            ['spec.nodePools.0.__proto__|forbidden_key'],
          ],
          [h.api('GET', '/v1/clusters?constructor=1'), ['query.constructor|forbidden_key']],
          [h.api('GET', '/v1/clusters?__proto__=x'), ['query.__proto__|forbidden_key']],
          [h.api('GET', '/v1/clusters?team[a]=b'), ['query.team[a]|unknown_field']],
        ]);
      });
    });

    describe('other paths to a 500 found on the way', () => {
      it('a path segment that is not valid percent-encoded UTF-8', async () => {
        await refusedWithoutTrace(() => [
          [h.api('GET', '/v1/clusters/%E0%A4%A'), ['path|encoding']],
          [h.api('GET', '/v1/operations/%ff'), ['path|encoding']],
          [h.api('DELETE', '/v1/clusters/%ED%A0%80'), ['path|encoding']],
        ]);
      });

      it('an expiry that a time zone offset carries past the year 9999', async () => {
        await refusedWithoutTrace(() => [
          [
            h.api('POST', '/v1/clusters', {
              body: {
                team: 'alpha',
                name: 'far-away',
                blueprint: 'local-files',
                spec: localSpec(),
                expiresAt: '9999-12-31T23:59:59-23:59',
              },
            }),
            ['expiresAt|range'],
          ],
          [h.api('PATCH', '/v1/clusters/steady', { body: { expiresAt: '9999-12-31T23:59:59-01:00' } }), ['expiresAt|range']],
        ]);
      });

      it('a number that overflows to Infinity, limits that are not plain integers, and too many label selectors', async () => {
        await refusedWithoutTrace(() => [
          [
            h.api('POST', '/v1/clusters', {
              raw: '{"team":"alpha","name":"inf-one","blueprint":"local-files","spec":{"version":"1.30","nodePools":[{"name":"default","size":1e400}]}}',
              headers: json,
            }),
            ['spec.nodePools.0.size|finite'],
          ],
          [h.api('GET', '/v1/clusters?limit=1e400'), ['query.limit|invalid_type']],
          [h.api('GET', '/v1/clusters?limit=0x10'), ['query.limit|invalid_type']],
          [h.api('GET', '/v1/clusters/steady/kubeconfig/reads?limit=500'), ['query.limit|too_big']],
          [h.api('GET', `/v1/clusters?${Array.from({ length: 40 }, (_, i) => `label=k${i}=v`).join('&')}`), ['query.label|too_big']],
          [h.api('GET', `/v1/clusters?label=${'k'.repeat(3000)}=v`), ['query.label.0|invalid_format']],
        ]);
      });

      it('a team called constructor: no inherited TTL cap, no counting into Object, no false label conflict', async () => {
        const created = await h.api('POST', '/v1/clusters', {
          body: { team: 'constructor', name: 'ctor-one', blueprint: 'local-files', spec: localSpec() },
        });
        assert.equal(created.status, 202, JSON.stringify(created.body));
        assert.equal(created.body.cluster.expiresAt, null);
        const fleet = await h.api('GET', '/v1/drift');
        assert.equal(fleet.status, 200);
        assert.equal(fleet.body.byTeam.constructor.clusters, 1);
        // The API runs in this process: the summary must not have written onto the Object constructor.
        assert.equal((Object as unknown as Record<string, unknown>).clusters, undefined);
        const selected = await h.api('GET', '/v1/clusters?label=constructor=x');
        assert.equal(selected.status, 200, JSON.stringify(selected.body));
        assert.deepEqual(selected.body.items, []);
        assert.equal((await h.api('DELETE', '/v1/clusters/ctor-one')).status, 202);
      });

      it('still serves the pages it issued', async () => {
        await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name: 'steady-two', blueprint: 'local-files', spec: localSpec() } });
        assert.equal((await h.api('POST', '/v1/clusters/steady/preview')).status, 202);
        const first = await h.api('GET', '/v1/clusters?team=alpha&limit=1');
        assert.equal(first.status, 200);
        const second = await h.api('GET', `/v1/clusters?team=alpha&limit=1&cursor=${first.body.nextCursor}`);
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.deepEqual(
          [...first.body.items, ...second.body.items].map((c: any) => c.name),
          ['steady', 'steady-two'],
        );
        const ops = await h.api('GET', '/v1/clusters/steady/operations?limit=1');
        const more = await h.api('GET', `/v1/clusters/steady/operations?limit=1&cursor=${ops.body.nextCursor}`);
        assert.equal(more.status, 200, JSON.stringify(more.body));
      });
    });
  });
