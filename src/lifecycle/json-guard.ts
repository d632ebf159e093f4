import type { FieldIssue } from '../errors.js';

/**
 * Keys refused anywhere in a request. `__proto__` replaces an object's prototype when assigned
 * (the merge patch does exactly that), and zod's records drop it silently; `constructor` and
 * `prototype` are the other two steps of the classic pollution paths. No spec needs them.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest nesting of arrays and objects in a JSON request body, when not configured (`MAX_BODY_DEPTH`). */
export const DEFAULT_MAX_DEPTH = 32;

/** Issues one walk reports at most: a hostile document must not make a huge answer. */
export const MAX_REPORTED_ISSUES = 20;

// PostgreSQL text and jsonb cannot hold U+0000; jsonb refuses escaped lone surrogates, and the
// drivers would silently turn one in a text column into U+FFFD.
const NUL = /\u0000/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNPRINTABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Why `text` cannot be stored as it is in a PostgreSQL text or jsonb value; null when it can. */
export function textFault(text: string): Omit<FieldIssue, 'field'> | null {
  if (NUL.test(text)) return { rule: 'nul_character', message: 'must not contain the NUL character (U+0000)' };
  if (LONE_SURROGATE.test(text))
    return { rule: 'unicode', message: 'must be well-formed Unicode (a lone surrogate such as \\ud800 is not a character)' };
  return null;
}

export interface JsonGuardOptions {
  /** Deepest nesting of arrays and objects; the top-level value is level 1. */
  maxDepth: number;
  /** What field names start with (`query`); none for a body, whose root is `(body)`. @defaultValue '' */
  prefix?: string;
  /** Stop after this many issues. @defaultValue {@link MAX_REPORTED_ISSUES} */
  maxIssues?: number;
}

interface Pending {
  value: unknown;
  path: Array<string | number>;
  depth: number;
}

/**
 * Everything in a parsed JSON document (or query object) that must never reach the services or
 * the store: nesting deeper than `maxDepth`, forbidden keys, NUL characters and lone surrogates in
 * strings and keys, and numbers that overflowed to Infinity. The walk is iterative and does not go
 * below `maxDepth`, so it is safe on any input and runs before anything recursive (the merge
 * patch, zod, JSON.stringify) sees the document.
 */
export function jsonIssues(document: unknown, options: JsonGuardOptions): FieldIssue[] {
  const prefix = options.prefix ?? '';
  const maxIssues = options.maxIssues ?? MAX_REPORTED_ISSUES;
  const issues: FieldIssue[] = [];
  const report = (path: Array<string | number>, issue: Omit<FieldIssue, 'field'>) =>
    issues.push({ field: fieldName(prefix, path), ...issue });
  const stack: Pending[] = [{ value: document, path: [], depth: 1 }];
  while (stack.length > 0 && issues.length < maxIssues) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const fault = textFault(value);
      if (fault) report(path, fault);
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) report(path, { rule: 'finite', message: 'must be a finite number' });
    } else if (typeof value === 'object' && value !== null) {
      if (depth > options.maxDepth) {
        report(path, { rule: 'max_depth', message: `nests arrays and objects deeper than ${options.maxDepth} levels` });
        continue;
      }
      const children: Pending[] = [];
      if (Array.isArray(value)) {
        value.forEach((item, i) => children.push({ value: item, path: [...path, i], depth: depth + 1 }));
      } else {
        for (const key of Object.keys(value)) {
          const at = [...path, key];
          if (FORBIDDEN_KEYS.has(key))
            report(at, {
              rule: 'forbidden_key',
              message: 'is a forbidden key (__proto__, constructor and prototype are refused anywhere)',
            });
          else {
            const fault = textFault(key);
            if (fault) report(at, { rule: fault.rule, message: `key ${fault.message}` });
            else children.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
          }
        }
      }
      // Reversed so that issues come out in document order.
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
    }
  }
  return issues.slice(0, maxIssues);
}

/** The dotted field name of `path`, with characters that cannot be shown written as escapes and long keys cut. */
function fieldName(prefix: string, path: Array<string | number>): string {
  const parts = path.map((p) => {
    if (typeof p === 'number') return String(p);
    const shown = p.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    return shown.length > 64 ? `${shown.slice(0, 64)}…` : shown;
  });
  return [prefix, ...parts].filter((p) => p !== '').join('.') || '(body)';
}
