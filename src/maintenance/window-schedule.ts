/**
 * Whether a maintenance policy lets work start at a given instant, and when it next does. Pure:
 * the instant is passed in (the database's clock in the service). Weekly windows are laid out in
 * their own time zone with Luxon, so a window at 02:00 Europe/Paris stays at 02:00 local time
 * across daylight-saving changes (a start that falls in the spring gap moves to the first valid time).
 */
import { DateTime } from 'luxon';
import { WEEKDAYS, type MaintenancePolicy, type MaintenanceWindow, type WaitingFor } from '../domain/maintenance.js';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const DAY_MS = UNIT_MS.d;

/** A window's length: a whole number of seconds, minutes, hours or days, at most 7 days. */
export const WINDOW_DURATION_PATTERN = /^([1-9]\d{0,6})(s|m|h|d)$/;
export const MAX_WINDOW_MS = 7 * DAY_MS;
/** A window's local start: `HH:MM` or `HH:MM:SS`. */
export const TIME_OF_DAY_PATTERN = /^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/;
/** How far ahead the next opening is looked for: a week and a day first (weekly windows recur within it), then a year. */
const HORIZONS_MS = [8 * DAY_MS, 366 * DAY_MS];

export function windowDurationMs(text: string): number | null {
  const m = WINDOW_DURATION_PATTERN.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null;
}

type Interval = [start: number, end: number];

/** The window's occurrences that overlap [from, to). */
function occurrences(window: MaintenanceWindow, from: number, to: number): Interval[] {
  const length = windowDurationMs(window.duration) ?? 0;
  const [, hour = 0, minute = 0, second = 0] = TIME_OF_DAY_PATTERN.exec(window.start)!.map((part) => Number(part ?? 0));
  const days = new Set(window.days.map((d) => WEEKDAYS.indexOf(d) + 1));
  const found: Interval[] = [];
  // From the local day before the earliest occurrence that can still be open at `from`.
  let day = DateTime.fromMillis(from - length - DAY_MS, { zone: window.timezone }).startOf('day');
  while (day.toMillis() < to) {
    if (days.has(day.weekday)) {
      const start = day.set({ hour, minute, second }).toMillis();
      if (start < to && start + length > from) found.push([start, start + length]);
    }
    day = day.plus({ days: 1 });
  }
  return found;
}

/** Sorted, with overlapping and touching intervals joined. */
function joined(intervals: Interval[]): Interval[] {
  const out: Interval[] = [];
  for (const [s, e] of [...intervals].sort((a, b) => a[0] - b[0])) {
    const last = out.at(-1);
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** `open` minus `closed`. */
function without(open: Interval[], closed: Interval[]): Interval[] {
  let rest = open;
  for (const [cs, ce] of closed) {
    rest = rest.flatMap(([s, e]): Interval[] => {
      if (ce <= s || cs >= e) return [[s, e]];
      return [...(cs > s ? [[s, cs] as Interval] : []), ...(ce < e ? [[ce, e] as Interval] : [])];
    });
  }
  return rest;
}

/** The instants in [from, to) at which the policy lets work start. No window at all: every instant, less the exclusions. */
export function openIntervals(policy: MaintenancePolicy, from: number, to: number): Interval[] {
  const windows = policy.windows.length ? joined(policy.windows.flatMap((w) => occurrences(w, from, to))) : [[from, to] as Interval];
  const exclusions = policy.exclusions.map((e): Interval => [Date.parse(e.start), Date.parse(e.end)]);
  return without(windows, exclusions)
    .map(([s, e]): Interval => [Math.max(s, from), Math.min(e, to)])
    .filter(([s, e]) => e > s);
}

export type MaintenanceState =
  /** `closesAt`: when the open stretch ends (ISO-8601), null when it does not within a year. */
  { open: true; closesAt: string | null } | { open: false; waitingFor: WaitingFor };

const iso = (ms: number) => new Date(ms).toISOString();

/** Whether work may start at `now` (ms) under `policy`; no policy is always open. */
export function maintenanceState(policy: MaintenancePolicy | null, now: number): MaintenanceState {
  if (!policy) return { open: true, closesAt: null };
  let first: Interval | undefined;
  let horizon = now;
  for (const ahead of HORIZONS_MS) {
    horizon = now + ahead;
    first = openIntervals(policy, now, horizon)[0];
    // Found, and known to end before the horizon (or to start later): no need to look further.
    if (first && first[1] < horizon) break;
  }
  if (first && first[0] <= now) return { open: true, closesAt: first[1] >= horizon ? null : iso(first[1]) };
  const freeze = policy.exclusions.find((e) => Date.parse(e.start) <= now && now < Date.parse(e.end));
  return {
    open: false,
    waitingFor: {
      reason: 'maintenance-window',
      next: first ? iso(first[0]) : null,
      detail: freeze ? `maintenance exclusion: ${freeze.reason}` : 'outside every maintenance window',
    },
  };
}
