/**
 * The default control plane version of a new cluster: the newest version in standard support at
 * an instant, by the provider's calendar. The service fills `version` itself, by the database's
 * clock, before it parses a spec; these defaults serve callers that parse a spec directly.
 */
import { newestInStandardSupport } from '../src/domain/version-support.js';
import { EKS_CALENDAR, GKE_CALENDAR } from './version-calendars.js';
import { EKS_VERSIONS, GKE_VERSIONS, verifiedAddonPins, type EksVersion, type GkeVersion } from './versions.js';

/**
 * The newest EKS version in standard support at `now` (ms) whose add-on pins are verified; when
 * none is, the newest version listed (a schema default must never throw; the service's own
 * calendar check then says what is wrong with it).
 */
export function defaultEksVersion(now: number): EksVersion {
  const isListed = (v: string): v is EksVersion => (EKS_VERSIONS as readonly string[]).includes(v);
  const newest = newestInStandardSupport(EKS_CALENDAR, now, (v) => isListed(v) && verifiedAddonPins(v));
  return newest !== null && isListed(newest) ? newest : EKS_VERSIONS[EKS_VERSIONS.length - 1]!;
}

/** The newest GKE version in standard support at `now` (ms), among those the schema accepts; else the newest listed. */
export function defaultGkeVersion(now: number): GkeVersion {
  const isListed = (v: string): v is GkeVersion => (GKE_VERSIONS as readonly string[]).includes(v);
  const newest = newestInStandardSupport(GKE_CALENDAR, now, isListed);
  return newest !== null && isListed(newest) ? newest : GKE_VERSIONS[GKE_VERSIONS.length - 1]!;
}
