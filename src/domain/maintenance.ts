/**
 * When the service may start work on its own on a cluster: weekly windows in a time zone, and
 * exclusions (freezes) that close them. A cluster's own policy wins over its team's default; with
 * neither, every moment is open.
 */
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface MaintenanceWindow {
  days: Weekday[];
  /** Local time of day the window opens, `HH:MM` or `HH:MM:SS`. */
  start: string;
  /** How long it stays open: `4h`, `90m`, `30s`. */
  duration: string;
  /** IANA time zone the days and the start are read in. */
  timezone: string;
}

/** A freeze: nothing starts on its own between `start` and `end` (ISO-8601 instants), whatever the windows say. */
export interface MaintenanceExclusion {
  start: string;
  end: string;
  reason: string;
}

export interface MaintenancePolicy {
  windows: MaintenanceWindow[];
  exclusions: MaintenanceExclusion[];
}

/** Where the policy in effect on a cluster comes from. */
export type PolicySource = 'cluster' | 'team';

/** Why a queued operation or a rollout member has not started, and when it may. */
export interface WaitingFor {
  reason: 'maintenance-window';
  /** When the next window opens outside every exclusion (ISO-8601); null when none opens in the next year. */
  next: string | null;
  /** What holds it: outside every window, or the exclusion's reason. */
  detail: string;
}

/** Whether two notes of waiting say the same (records may hand back their keys in another order). */
export const sameWaiting = (a: WaitingFor | null, b: WaitingFor | null): boolean =>
  a === b || (a !== null && b !== null && a.reason === b.reason && a.next === b.next && a.detail === b.detail);
