import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { fieldIssues } from '../../src/lifecycle/zod-issues.js';
import { eventsQuery, MAX_EVENT_SEQ } from '../../server/stream-position.js';
import { listClustersQuery, listOperationsQuery } from '../../server/schemas/list-queries.js';

const issuesOf = (schema: { safeParse(v: unknown): any }, value: unknown) => {
  const r = schema.safeParse(value);
  return r.success ? [] : fieldIssues(r.error, 'query').map((i) => `${i.field}|${i.rule}`);
};

describe('integers in a query string', () => {
  it('takes plain digits within the range, and the default when absent', () => {
    assert.deepEqual(listOperationsQuery.parse({}), { limit: 50 });
    assert.deepEqual(listOperationsQuery.parse({ limit: '200' }), { limit: 200 });
    assert.deepEqual(eventsQuery.parse({ after: String(MAX_EVENT_SEQ) }), { after: MAX_EVENT_SEQ });
    assert.deepEqual(eventsQuery.parse({ after: '0' }), { after: 0 });
  });

  it('refuses what Number() would take but is not a plain integer', () => {
    for (const limit of ['0x10', '1e1', ' 5', '5 ', '+5', '-5', '1.0', '', 'Infinity', ['1', '2'], { a: '1' }]) {
      assert.deepEqual(issuesOf(listOperationsQuery, { limit }), ['query.limit|invalid_type'], JSON.stringify(limit));
    }
  });

  it('refuses values out of range, above int4 for an event position', () => {
    assert.deepEqual(issuesOf(listOperationsQuery, { limit: '0' }), ['query.limit|too_small']);
    assert.deepEqual(issuesOf(listOperationsQuery, { limit: '201' }), ['query.limit|too_big']);
    assert.deepEqual(issuesOf(eventsQuery, { after: String(MAX_EVENT_SEQ + 1) }), ['query.after|too_big']);
    assert.deepEqual(issuesOf(eventsQuery, { after: '99999999999999999999' }), ['query.after|invalid_type']);
  });
});

describe('label selectors and names in the cluster list query', () => {
  it('turns one or several selectors into pairs', () => {
    assert.deepEqual(listClustersQuery.parse({ label: 'env=prod' }).label, [['env', 'prod']]);
    assert.deepEqual(listClustersQuery.parse({ label: ['env=prod', 'tier='] }).label, [
      ['env', 'prod'],
      ['tier', ''],
    ]);
  });

  it('refuses selectors no label could match, too many of them, and blueprint names the registry would not take', () => {
    assert.deepEqual(issuesOf(listClustersQuery, { label: 'a\u0000=b' }), ['query.label.0|invalid_format']);
    assert.deepEqual(issuesOf(listClustersQuery, { label: `${'k'.repeat(3000)}=v` }), ['query.label.0|invalid_format']);
    assert.deepEqual(issuesOf(listClustersQuery, { label: Array.from({ length: 33 }, (_, i) => `k${i}=v`) }), ['query.label|too_big']);
    assert.deepEqual(issuesOf(listClustersQuery, { blueprint: 'a b' }), ['query.blueprint|invalid_format']);
    assert.deepEqual(issuesOf(listClustersQuery, { cursor: 'abc+/=' }), ['query.cursor|invalid_format']);
  });
});
