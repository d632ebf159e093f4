/**
 * What a support calendar says of a version at an instant: in standard support, in extended
 * support, or unsupported; the newest version in standard support; the version after another.
 * Pure: the instant is an argument (the database's clock in the service). The calendars themselves
 * are the blueprints' data (programs/version-calendars.ts for the built-in ones).
 */

/** How sure a row is: read on the provider's own page, read from an aggregator of it, or worked out from the provider's stated policy. */
export type CalendarConfidence = 'official' | 'secondary' | 'inferred';

export interface VersionCalendarEntry {
  /** Kubernetes minor version, `"1.35"`. */
  version: string;
  /** When the provider made it available for new clusters (EKS: its release; GKE: available in the Regular channel). `YYYY-MM-DD`. */
  released: string;
  /** Standard support ends at the start of this day (UTC). */
  endOfStandardSupport: string;
  /** Extended support ends at the start of this day (UTC). */
  endOfExtendedSupport: string;
  /** Where the dates were read. */
  source: string;
  confidence: CalendarConfidence;
  /** When the row was last checked against `source`. `YYYY-MM-DD`. */
  checked: string;
}

export type SupportStatus = 'standard' | 'extended' | 'unsupported';

export interface VersionSupport {
  version: string;
  status: SupportStatus;
  endOfStandardSupport: string;
  endOfExtendedSupport: string;
}

/** The minor number of a `"1.33"` version (33). */
const minorOf = (version: string) => Number(version.split('.')[1]);

/** The start of a `YYYY-MM-DD` day in UTC, in ms. */
const dayStart = (day: string) => Date.parse(`${day}T00:00:00Z`);

/** The version's support at `now` (ms); null for a version the calendar does not list. */
export function supportOf(calendar: readonly VersionCalendarEntry[], version: string, now: number): VersionSupport | null {
  const entry = calendar.find((e) => e.version === version);
  if (!entry) return null;
  const status: SupportStatus =
    now < dayStart(entry.endOfStandardSupport) ? 'standard' : now < dayStart(entry.endOfExtendedSupport) ? 'extended' : 'unsupported';
  return { version, status, endOfStandardSupport: entry.endOfStandardSupport, endOfExtendedSupport: entry.endOfExtendedSupport };
}

/**
 * The newest version released by `now` and still in standard support among those `usable` accepts
 * (a blueprint that pins add-ons per version accepts only the versions it has pins for); null when none.
 */
export function newestInStandardSupport(
  calendar: readonly VersionCalendarEntry[],
  now: number,
  usable: (version: string) => boolean = () => true,
): string | null {
  const candidates = calendar
    .filter((e) => dayStart(e.released) <= now && supportOf(calendar, e.version, now)?.status === 'standard' && usable(e.version))
    .sort((a, b) => minorOf(b.version) - minorOf(a.version));
  return candidates[0]?.version ?? null;
}

/** The version one minor above `version` that the calendar lists, or null. */
export function nextListedVersion(calendar: readonly VersionCalendarEntry[], version: string): string | null {
  const next = `1.${minorOf(version) + 1}`;
  return calendar.some((e) => e.version === next) ? next : null;
}
