import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createTokenBody, roleOf } from '../../src/tokens/requests.js';
import { resolveTokenExpiry } from '../../src/tokens/token-service.js';
import { InputError } from '../../src/errors.js';
import { requestSchema } from '../../server/openapi-parts.js';
import { jsonSchemaValidator } from '../support/json-schema.js';

/** Every body made of `name` and each of `keys` absent or given as one of its values. */
function bodies(choices: Record<string, unknown[]>): Array<Record<string, unknown>> {
  return Object.entries(choices).reduce<Array<Record<string, unknown>>>(
    (acc, [key, values]) => acc.flatMap((b) => [b, ...values.map((v) => ({ ...b, [key]: v }))]),
    [{ name: 'ci' }],
  );
}

const issuesOf = (body: unknown) => {
  try {
    parseOrThrow(createTokenBody, body);
    return [];
  } catch (err) {
    assert.ok(err instanceof InputError);
    return err.issues.map((i) => `${i.field}|${i.rule}`);
  }
};

describe('POST /v1/tokens body', () => {
  it('is accepted exactly when its JSON Schema in the description says so, for every mix of role, admin and team', () => {
    const validate = jsonSchemaValidator().compile(requestSchema(createTokenBody));
    const all = bodies({ role: ['admin', 'member', 'approver', 'viewer'], admin: [true, false], team: ['alpha'] });
    assert.equal(all.length, 5 * 3 * 2);
    for (const body of all) assert.equal(validate(body), issuesOf(body).length === 0, JSON.stringify(body));
  });

  it('names the rule it breaks', () => {
    assert.deepEqual(issuesOf({ name: 'ci' }), ['team|team_by_role']);
    assert.deepEqual(issuesOf({ name: 'ci', role: 'admin', team: 'alpha' }), ['team|team_by_role']);
    assert.deepEqual(issuesOf({ name: 'ci', admin: true, role: 'member' }), ['admin|role_agrees']);
    assert.deepEqual(issuesOf({ name: 'ci', admin: false, role: 'admin' }), ['admin|role_agrees']);
    assert.deepEqual(issuesOf({ name: 'ci', team: 'alpha', ttl: '1d', expiresAt: '2030-01-01T00:00:00Z' }), ['ttl|exclusive']);
    assert.deepEqual(issuesOf({ name: 'ci', team: 'alpha', role: 'owner' }), ['role|invalid_value']);
  });

  it('asks for member by default, admin with admin: true (the first spelling) or role: admin', () => {
    assert.equal(roleOf({}), 'member');
    assert.equal(roleOf({ admin: false }), 'member');
    assert.equal(roleOf({ admin: true }), 'admin');
    assert.equal(roleOf({ role: 'viewer' }), 'viewer');
  });
});

describe('a token’s expiry', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');

  it('is none unless asked; a ttl counts from the clock given (the database’s)', () => {
    assert.equal(resolveTokenExpiry({}, now), null);
    assert.equal(resolveTokenExpiry({ ttl: '90d' }, now), '2027-02-28T12:00:00.000Z');
    assert.equal(resolveTokenExpiry({ expiresAt: '2026-12-01T01:00:00+02:00' }, now), '2026-11-30T23:00:00.000Z');
  });

  it('must be in the future and at most ten years ahead, naming the field and the rule', () => {
    const refused = (body: { expiresAt?: string; ttl?: string }) => {
      try {
        resolveTokenExpiry(body, now);
        return null;
      } catch (err) {
        assert.ok(err instanceof InputError);
        return err.issues.map((i) => `${i.field}|${i.rule}|${i.message}`);
      }
    };
    assert.deepEqual(refused({ expiresAt: '2026-11-30T12:00:00Z' }), ['expiresAt|future|must be in the future']);
    assert.deepEqual(refused({ ttl: '3651d' }), ['ttl|max|must be at most 3650d ahead (latest allowed: 2036-11-27T12:00:00.000Z)']);
    assert.deepEqual(refused({ expiresAt: '2037-01-01T00:00:00Z' }), [
      'expiresAt|max|must be at most 3650d ahead (latest allowed: 2036-11-27T12:00:00.000Z)',
    ]);
    assert.equal(refused({ ttl: '3650d' }), null);
  });
});
