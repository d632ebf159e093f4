import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { z } from 'zod';
import { atLeastOneOf, notBoth, withRules, type ObjectRule } from '../../src/lifecycle/object-rules.js';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { InputError } from '../../src/errors.js';
import { jsonSchemaValidator } from '../support/json-schema.js';

type Schema = Record<string, any>;

const validator = jsonSchemaValidator();
/** ObjectRule's JSON Schema, evaluated as draft 2020-12 says. */
const matches = (schema: Schema, body: Record<string, unknown>) => validator.validate(schema, body);

/** Every body made of `keys` absent, or given as one of `values`. */
function bodies(keys: string[], values: unknown[]): Array<Record<string, unknown>> {
  return keys.reduce<Array<Record<string, unknown>>>(
    (acc, key) => acc.flatMap((b) => [b, ...values.map((v) => ({ ...b, [key]: v }))]),
    [{}],
  );
}

const agrees = (rule: ObjectRule, all: Array<Record<string, unknown>>, parsed = (b: Record<string, unknown>) => b) => {
  for (const body of all) assert.equal(matches(rule.jsonSchema, body), rule.holds(parsed(body)), `${rule.rule} on ${JSON.stringify(body)}`);
};

describe('rules across fields: the check and its JSON Schema agree on every body', () => {
  it('notBoth: a or b or neither; null counts as given', () => {
    agrees(notBoth('expiresAt', 'ttl'), bodies(['expiresAt', 'ttl', 'other'], ['x', null]));
  });

  it('atLeastOneOf: any one of the keys, null included', () => {
    agrees(atLeastOneOf(['spec', 'labels', 'expiresAt']), bodies(['spec', 'labels', 'expiresAt', 'allowReplace'], [{}, null]));
  });

  it('withRules: a broken rule is a 400 naming its field and rule, and the JSON Schema carries every rule', () => {
    const body = withRules(z.strictObject({ a: z.string().optional(), b: z.string().optional() }), [
      atLeastOneOf(['a', 'b']),
      notBoth('a', 'b'),
    ]);
    const issues = (value: unknown) => {
      try {
        parseOrThrow(body, value);
        return [];
      } catch (err) {
        assert.ok(err instanceof InputError);
        return err.issues.map((i) => `${i.field}|${i.rule}`);
      }
    };
    assert.deepEqual(issues({}), ['(body)|at_least_one']);
    assert.deepEqual(issues({ a: 'x', b: 'y' }), ['b|exclusive']);
    assert.deepEqual(issues({ a: 'x' }), []);
    const json = z.toJSONSchema(body, { io: 'input' }) as Schema;
    assert.deepEqual(json.allOf, [
      { anyOf: [{ required: ['a'] }, { required: ['b'] }] },
      { anyOf: [{ properties: { a: false } }, { properties: { b: false } }] },
    ]);
  });
});
