import type { z } from 'zod';

/**
 * A rule that ties several fields of a request body together. zod checks it in a refinement, which
 * JSON Schema cannot see; so each rule also states itself in JSON Schema, and {@link withRules}
 * applies both, so that the OpenAPI description generated from the body is as strict as the check.
 */
export interface ObjectRule {
  /** True when `body` (as parsed, defaults applied) keeps the rule. */
  holds(body: Record<string, unknown>): boolean;
  /** The field blamed, or undefined for the body as a whole. */
  field?: string;
  /** The rule's name in the 400 answer. */
  rule: string;
  message: string;
  /** The same rule in JSON Schema (draft 2020-12), checked against the JSON body as sent. */
  jsonSchema: Record<string, unknown>;
}

// A key given as null is given: in a PATCH, null means "remove".
const given = (body: Record<string, unknown>, key: string) => body[key] !== undefined;

// The JSON Schemas say "absent" as `properties: { key: false }` rather than `not: { required: [key] }`,
// and "one of two branches that exclude each other" as anyOf rather than oneOf: the same rules,
// in a form a linter of the description (redocly) can follow.

/** `a` or `b` or neither, never both; `b` is the field blamed. */
export function notBoth(a: string, b: string): ObjectRule {
  return {
    holds: (body) => !(given(body, a) && given(body, b)),
    field: b,
    rule: 'exclusive',
    message: `give ${a} or ${b}, not both`,
    jsonSchema: { anyOf: [{ properties: { [a]: false } }, { properties: { [b]: false } }] },
  };
}

/** At least one of `keys`. */
export function atLeastOneOf(keys: string[]): ObjectRule {
  return {
    holds: (body) => keys.some((k) => given(body, k)),
    rule: 'at_least_one',
    message: `give at least one of ${keys.join(', ')}`,
    jsonSchema: { anyOf: keys.map((k) => ({ required: [k] })) },
  };
}

/** `schema` with each rule checked (a 400 naming its field and rule) and stated in its JSON Schema. */
export function withRules<S extends z.ZodObject>(schema: S, rules: ObjectRule[]): S {
  const checked = rules.reduce(
    (s, r) =>
      s.refine((body) => r.holds(body), { message: r.message, path: r.field === undefined ? [] : [r.field], params: { rule: r.rule } }),
    schema,
  );
  return checked.meta({ allOf: rules.map((r) => r.jsonSchema) });
}

/** Exactly one of `keys`. */
export function exactlyOneOf(keys: string[]): ObjectRule {
  return {
    holds: (body) => keys.filter((k) => given(body, k)).length === 1,
    rule: 'exactly_one',
    message: `give exactly one of ${keys.join(', ')}`,
    // Each branch requires its key and forbids the others: at most one can match.
    jsonSchema: {
      anyOf: keys.map((k) => ({ required: [k], properties: Object.fromEntries(keys.filter((o) => o !== k).map((o) => [o, false])) })),
    },
  };
}
