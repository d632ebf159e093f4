/**
 * A cluster's Kubernetes version as its blueprint's calendar sees it at `now`: the version it runs
 * (the applied spec's; the desired one before the first run), its support status and dates, and
 * where an upgrade leads. Pure.
 */
import type { Blueprint } from '../blueprints/blueprint.js';
import type { ClusterRecord } from '../domain/cluster.js';
import { newestInStandardSupport, nextListedVersion, supportOf, type SupportStatus } from '../domain/version-support.js';

const DAY_MS = 86_400_000;

export interface ClusterSupport {
  /** The version the cluster runs: its applied spec's, or its desired spec's before the first successful run. */
  version: string;
  /** The desired spec's version when an upgrade to it has not been applied yet; null otherwise. */
  targetVersion: string | null;
  status: SupportStatus;
  endOfStandardSupport: string;
  endOfExtendedSupport: string;
  /** Whole days until standard support ends (negative once it has). */
  daysToEndOfStandardSupport: number;
  /** Whether the spec keeps the cluster in extended support past standard support; null when the provider has none. */
  extendedSupport: boolean | null;
  /** The version one upgrade step leads to (one minor up), if the calendar lists it. */
  nextVersion: string | null;
  /** The newest version a new cluster of the blueprint would get. */
  newestInStandardSupport: string | null;
  /** Where the calendar row was read and when. */
  calendar: { source: string; checked: string };
}

/** The support status of `cluster`, or null when its blueprint has no calendar or the calendar does not list its version. */
export function clusterSupport(
  blueprint: Blueprint<any> | undefined,
  cluster: Pick<ClusterRecord, 'spec' | 'appliedSpec'>,
  now: number,
): ClusterSupport | null {
  const versions = blueprint?.versions;
  if (!versions) return null;
  const running = (cluster.appliedSpec ?? cluster.spec)[versions.field];
  const desired = cluster.spec[versions.field];
  if (typeof running !== 'string') return null;
  const support = supportOf(versions.calendar, running, now);
  const entry = versions.calendar.find((e) => e.version === running);
  if (!support || !entry) return null;
  return {
    ...support,
    targetVersion: typeof desired === 'string' && desired !== running ? desired : null,
    daysToEndOfStandardSupport: Math.floor((Date.parse(`${support.endOfStandardSupport}T00:00:00Z`) - now) / DAY_MS),
    extendedSupport: versions.extendedSupport ? versions.extendedSupport.isOn(cluster.appliedSpec ?? cluster.spec) : null,
    nextVersion: nextListedVersion(versions.calendar, running),
    newestInStandardSupport: newestInStandardSupport(versions.calendar, now, versions.offered),
    calendar: { source: entry.source, checked: entry.checked },
  };
}
