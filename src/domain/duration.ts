const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The duration form used in requests and configuration: a whole number of minutes, hours or days. */
export const DURATION_PATTERN = /^([1-9]\d{0,5})(m|h|d)$/;

/** `90m`, `24h`, `7d` -> milliseconds; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION_PATTERN.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

/** Milliseconds -> the largest whole unit that expresses it (`86400000` -> `1d`, `5400000` -> `90m`). */
export function formatDuration(ms: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  return `${Math.ceil(ms / 60_000)}m`;
}
