import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { jsonIssues, MAX_REPORTED_ISSUES, textFault } from '../../src/lifecycle/json-guard.js';

const rulesOf = (issues: Array<{ field: string; rule: string }>) => issues.map((i) => `${i.field}|${i.rule}`);
const guard = (value: unknown, maxDepth = 32) => rulesOf(jsonIssues(value, { maxDepth }));

/** `levels` arrays nested inside each other, as JSON.parse would build them. */
const nestedArrays = (levels: number) => JSON.parse('['.repeat(levels) + ']'.repeat(levels));

describe('jsonIssues: nesting depth', () => {
  it('accepts a document exactly as deep as the limit and refuses one level more, at the first too-deep container', () => {
    assert.deepEqual(guard(nestedArrays(32)), []);
    assert.deepEqual(guard({ spec: nestedArrays(31) }), []);
    assert.deepEqual(guard({ spec: nestedArrays(32) }), [`spec.${Array(31).fill(0).join('.')}|max_depth`]);
  });

  it('walks 100,000 levels without recursion and reports once', () => {
    const issues = jsonIssues(nestedArrays(100_000), { maxDepth: 32 });
    assert.equal(issues.length, 1);
    assert.equal(issues[0]!.rule, 'max_depth');
    assert.match(issues[0]!.message, /deeper than 32 levels/);
  });

  it('counts objects and arrays alike, and scalars not at all', () => {
    assert.deepEqual(guard({ a: [{ b: 'x' }] }, 3), []);
    assert.deepEqual(guard({ a: [{ b: ['x'] }] }, 3), ['a.0.b|max_depth']);
  });
});

describe('jsonIssues: forbidden keys', () => {
  for (const key of ['__proto__', 'constructor', 'prototype']) {
    it(`refuses ${key} at the top, nested in objects and inside arrays`, () => {
      assert.deepEqual(guard(JSON.parse(`{"${key}":{"x":1}}`)), [`${key}|forbidden_key`]);
      assert.deepEqual(guard(JSON.parse(`{"spec":{"tags":{"${key}":"x"}}}`)), [`spec.tags.${key}|forbidden_key`]);
      assert.deepEqual(guard(JSON.parse(`{"spec":{"pools":[{"${key}":1}]}}`)), [`spec.pools.0.${key}|forbidden_key`]);
    });
  }

  it('accepts keys that merely contain the words', () => {
    assert.deepEqual(guard({ myconstructor: 1, prototypes: 2, proto: 3 }), []);
  });
});

describe('jsonIssues: text a PostgreSQL column cannot hold', () => {
  it('refuses NUL in a string and in a key, and shows the key escaped', () => {
    assert.deepEqual(guard({ spec: { tags: { a: 'x\u0000y' } } }), ['spec.tags.a|nul_character']);
    assert.deepEqual(guard({ spec: { tags: { 'a\u0000': 'x' } } }), ['spec.tags.a\\u0000|nul_character']);
    assert.deepEqual(guard(['\u0000']), ['0|nul_character']);
    assert.deepEqual(guard('\u0000'), ['(body)|nul_character']);
  });

  it('refuses a lone high or low surrogate, and a pair in the wrong order, but not a real pair', () => {
    assert.deepEqual(guard({ a: '\ud800' }), ['a|unicode']);
    assert.deepEqual(guard({ a: 'x\udc00' }), ['a|unicode']);
    assert.deepEqual(guard({ a: '\udc00\ud800' }), ['a|unicode']);
    assert.deepEqual(guard({ '\ud800': 1 }), ['\\ud800|unicode']);
    assert.deepEqual(guard({ a: '\ud83d\ude00 ok', b: 'é', c: '\uffff' }), []);
  });

  it('textFault names the rule for one string', () => {
    assert.equal(textFault('plain')?.rule, undefined);
    assert.equal(textFault('a\u0000')?.rule, 'nul_character');
    assert.equal(textFault('\ud800')?.rule, 'unicode');
  });
});

describe('jsonIssues: numbers and reporting', () => {
  it('refuses a number that overflowed to Infinity', () => {
    assert.deepEqual(guard(JSON.parse('{"size":1e400,"neg":-1e400,"ok":1.7976931348623157e308}')), ['size|finite', 'neg|finite']);
  });

  it('reports in document order, under a prefix', () => {
    const issues = jsonIssues({ b: '\u0000', a: { constructor: 1 } }, { maxDepth: 8, prefix: 'query' });
    assert.deepEqual(rulesOf(issues), ['query.b|nul_character', 'query.a.constructor|forbidden_key']);
  });

  it(`stops after ${MAX_REPORTED_ISSUES} issues and cuts long keys`, () => {
    const many = Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, '\u0000']));
    assert.equal(jsonIssues(many, { maxDepth: 32 }).length, MAX_REPORTED_ISSUES);
    const [issue] = jsonIssues({ ['k'.repeat(1000)]: '\u0000' }, { maxDepth: 32 });
    assert.equal(issue!.field, `${'k'.repeat(64)}…`);
  });

  it('has nothing to say about an ordinary body', () => {
    assert.deepEqual(
      guard({
        name: 'ok',
        spec: { version: '1.30', nodePools: [{ name: 'default', size: 2 }], tags: {} },
        labels: { env: 'dev' },
        admin: false,
        ttl: null,
      }),
      [],
    );
  });
});
