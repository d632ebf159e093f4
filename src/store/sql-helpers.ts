import { clusterNameSchema } from '../domain/cluster.js';
import { InputError } from '../errors.js';
import type { Page } from '../domain/page.js';

// --- small pure helpers ---

/** Largest page of clusters, operations or kubeconfig reads one call returns. */
export const MAX_PAGE_SIZE = 200;

/** JSON text for a `::jsonb` parameter; null and undefined become SQL NULL. */
export function json(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

export function one<T>(row: T | undefined): T {
  if (row === undefined) throw new Error('expected the statement to return a row');
  return row;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID.test(s);
}

// Ids come from URLs: a malformed one matches nothing instead of raising a database cast error.
export function uuidOrNil(s: string): string {
  return isUuid(s) ? s : '00000000-0000-0000-0000-000000000000';
}

export function checkLimit(limit: number, max: number): number {
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    const message = `must be an integer from 1 to ${max}`;
    throw new InputError(`limit ${message}`, [{ field: 'limit', rule: 'range', message }]);
  }
  return limit;
}

export function checkLease(leaseMs: number): number {
  if (!Number.isFinite(leaseMs) || leaseMs <= 0) throw new InputError(`leaseMs must be greater than 0, got ${leaseMs}`);
  return leaseMs;
}

export function page<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * The value of a cursor this store issued, or a 400 naming the `cursor` query parameter (the only
 * way a cursor arrives) when it was not issued by us or would not fit the columns it is compared
 * with: a value that parses in JavaScript but not in PostgreSQL must never reach a query.
 */
export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) {
    const message = 'must be a cursor returned by the previous page';
    throw new InputError(`query.cursor: ${message}`, [{ field: 'query.cursor', rule: 'cursor', message }]);
  }
  return value;
}

const hasExactly = (v: unknown, keys: string[]): v is Record<string, unknown> =>
  typeof v === 'object' &&
  v !== null &&
  !Array.isArray(v) &&
  Object.keys(v).length === keys.length &&
  keys.every((k) => Object.hasOwn(v, k));

/** `{ name, id }` of the last cluster of a page: a valid cluster name (so no NUL, nothing an index cannot hold) and a uuid. */
export function isClusterCursor(v: unknown): v is { name: string; id: string } {
  return (
    hasExactly(v, ['name', 'id']) &&
    typeof v.name === 'string' &&
    clusterNameSchema.safeParse(v.name).success &&
    typeof v.id === 'string' &&
    isUuid(v.id)
  );
}

/** `{ seq }` of the last operation or delivery of a page: a positive integer (bigserial columns; safe integers fit int8). */
export function isOperationCursor(v: unknown): v is { seq: number } {
  return hasExactly(v, ['seq']) && Number.isSafeInteger(v.seq) && (v.seq as number) >= 1;
}

/** `{ at, id }` of the last row of a page ordered by a timestamp and an id (drift reports). */
export function isTimeCursor(v: unknown): v is { at: string; id: string } {
  return hasExactly(v, ['at', 'id']) && typeof v.at === 'string' && isStorableTimestamp(v.at) && typeof v.id === 'string' && isUuid(v.id);
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?Z$/;

/**
 * True for the strict ISO-8601 UTC form the store prints (`2024-05-01T10:20:30.123Z`, up to
 * microseconds) naming a real instant between the years 1970 and 9999. `Date.parse` accepts far
 * more (`"1"`, `"-000001-01-01"`, `"2021-02-30"` rolled over to March) than a `timestamptz` does.
 */
export function isStorableTimestamp(text: string): boolean {
  const m = ISO_UTC.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1970 || hour > 23 || minute > 59 || second > 59) return false;
  const d = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}
