import type { z } from 'zod';
import { InputError } from '../errors.js';
import { describeIssues, fieldIssues } from './zod-issues.js';

/** Parses `value` or throws an InputError naming every field and rule (fields under `prefix`). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, prefix = '', what = 'request'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = fieldIssues(result.error, prefix);
  throw new InputError(`invalid ${what}: ${describeIssues(issues)}`, issues);
}
