import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { mergePatch } from '../../src/lifecycle/merge-patch.js';

describe('mergePatch (RFC 7396)', () => {
  it('merges objects key by key and keeps untouched keys', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 5 } }), { a: 1, b: { c: 5, d: 3 } });
  });
  it('removes a key patched with null', () => {
    assert.deepEqual(mergePatch({ a: 1, b: 2 }, { b: null }), { a: 1 });
  });
  it('replaces arrays whole', () => {
    assert.deepEqual(mergePatch({ pools: [{ name: 'a' }, { name: 'b' }] }, { pools: [{ name: 'c' }] }), { pools: [{ name: 'c' }] });
  });
  it('does not modify its inputs', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { c: 2 } };
    mergePatch(target, patch);
    assert.deepEqual(target, { a: { b: 1 } });
    assert.deepEqual(patch, { a: { c: 2 } });
  });
});
