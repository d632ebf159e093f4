import { z } from 'zod';
import { SECRET_PLACEHOLDER } from '../domain/operation.js';
import type { Blueprint } from './blueprint.js';

const cache = new WeakMap<object, string[]>();

/**
 * Top-level spec fields a blueprint marks `writeOnly` (`.meta({ writeOnly: true })`): callers may
 * send them but answers never show them, since they are secrets the program needs.
 */
export function writeOnlyFields(blueprint: Blueprint<any>): string[] {
  let fields = cache.get(blueprint);
  if (!fields) {
    const json = z.toJSONSchema(blueprint.specSchema, { io: 'input', unrepresentable: 'any' }) as {
      properties?: Record<string, { writeOnly?: boolean }>;
    };
    fields = Object.entries(json.properties ?? {})
      .filter(([, p]) => p.writeOnly === true)
      .map(([k]) => k);
    cache.set(blueprint, fields);
  }
  return fields;
}

/** The spec with write-only fields replaced by {@link SECRET_PLACEHOLDER}. */
export function maskSpec(spec: Record<string, unknown>, fields: string[]): Record<string, unknown>;
export function maskSpec(spec: Record<string, unknown> | null, fields: string[]): Record<string, unknown> | null;
export function maskSpec(spec: Record<string, unknown> | null, fields: string[]): Record<string, unknown> | null {
  if (!spec || !fields.some((f) => f in spec)) return spec;
  const masked = { ...spec };
  for (const f of fields) if (f in masked) masked[f] = SECRET_PLACEHOLDER;
  return masked;
}
