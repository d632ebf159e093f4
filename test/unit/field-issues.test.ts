import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createClusterBody } from '../../src/lifecycle/requests.js';

function issuesOf(body: unknown) {
  try {
    parseOrThrow(createClusterBody, body);
  } catch (err) {
    assert.ok(err instanceof InputError);
    return err.issues.map((i) => `${i.field}|${i.rule}`).sort();
  }
  assert.fail('expected an InputError');
}

describe('request validation', () => {
  it('names each unknown field', () => {
    assert.deepEqual(issuesOf({ name: 'abc', blueprint: 'x', spec: {}, colour: 'red' }), ['colour|unknown_field']);
  });
  it('names a wrong type and a missing field', () => {
    assert.deepEqual(issuesOf({ name: 42, spec: {} }), ['blueprint|invalid_type', 'name|invalid_type']);
  });
  it('refuses a name that cannot be a stack name', () => {
    assert.deepEqual(issuesOf({ name: 'Bad_Name', blueprint: 'x', spec: {} }), ['name|invalid_format']);
    assert.deepEqual(issuesOf({ name: 'a--b', blueprint: 'x', spec: {} }), ['name|custom']);
  });
});
