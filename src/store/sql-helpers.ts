import { InputError } from '../errors.js';
import type { Page } from './record-store.js';

// --- small pure helpers ---

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

export function decodeCursor<T>(cursor: string, isValid: (v: unknown) => v is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) {
    const message = 'must be a cursor returned by the previous page';
    throw new InputError(`cursor ${message}`, [{ field: 'cursor', rule: 'cursor', message }]);
  }
  return value;
}

export function isClusterCursor(v: unknown): v is { name: string; id: string } {
  const c = v as { name?: unknown; id?: unknown } | null;
  return typeof c === 'object' && c !== null && typeof c.name === 'string' && typeof c.id === 'string' && isUuid(c.id);
}

export function isOperationCursor(v: unknown): v is { seq: number } {
  const c = v as { seq?: unknown } | null;
  return typeof c === 'object' && c !== null && Number.isSafeInteger(c.seq);
}
