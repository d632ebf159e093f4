import { parseDuration } from '../domain/duration.js';

/** So many requests per window, counted from the first one in the window. */
export interface RateRule {
  /** Requests allowed per window, at least 1. */
  points: number;
  /** Length of the window in milliseconds (a whole number of minutes). */
  windowMs: number;
}

/** `30/1m` -> { points: 30, windowMs: 60000 }; `off` -> null (no limit); anything else -> undefined. */
export function parseRateRule(text: string): RateRule | null | undefined {
  const trimmed = text.trim();
  if (trimmed === 'off') return null;
  const m = /^([1-9]\d{0,5})\/(\S+)$/.exec(trimmed);
  const windowMs = m ? parseDuration(m[2]!) : null;
  return m && windowMs !== null ? { points: Number(m[1]), windowMs } : undefined;
}
