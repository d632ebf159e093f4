import type { z } from 'zod';
import type { FieldIssue } from '../errors.js';

const join = (parts: Array<string | number | symbol | undefined>) =>
  parts
    .filter((p) => p !== undefined && p !== '')
    .map(String)
    .join('.') || '(body)';

/** Turns zod issues into field issues whose field is the dotted path under `prefix`. */
export function fieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    // An unknown key is the field at fault, not the object holding it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: join([prefix, ...issue.path, key]),
        rule: 'unknown_field',
        message: 'is not a known field',
      }));
    }
    // A custom check names its own rule (`params: { rule }`); "custom" says nothing to the caller.
    const rule = issue.code === 'custom' && typeof issue.params?.rule === 'string' ? issue.params.rule : issue.code;
    return [{ field: join([prefix, ...issue.path]), rule, message: issue.message }];
  });
}

/** One sentence naming every field and rule, for the problem's `detail`. */
export function describeIssues(issues: FieldIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}
