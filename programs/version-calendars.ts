/**
 * The providers' support calendars of the Kubernetes minor versions, as data: when each version
 * became available for new clusters, when its standard support ends and when its extended support
 * ends, where each date was read and when. The rules that read them (src/domain/version-support.ts) take the
 * instant as an argument, so that a version stops being offered when its date passes, without a
 * release of clusterd.
 *
 * Refresh: read the pages named in `source` (or `aws eks describe-cluster-versions`), change the
 * rows, set `checked`. Dates are days in UTC: EKS bills extended support "from the beginning of the
 * day that the version reaches end of standard support, in the UTC+0 timezone".
 */
import type { CalendarConfidence, VersionCalendarEntry } from '../src/domain/version-support.js';

const EKS_PAGE = 'https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html';

/**
 * Amazon EKS: 14 months of standard support from the EKS release, then 12 of extended support
 * ($0.60 per cluster-hour against $0.10). Rows up to 1.35 are the EKS user guide's own table
 * (awsdocs/amazon-eks-user-guide, latest/ug/versioning/kubernetes-versions.adoc); 1.36's row was
 * not in any copy of the page that could be read here, and comes from endoflife.date, which scrapes
 * that page, with three other copies of the calendar agreeing.
 */
export const EKS_CALENDAR: readonly VersionCalendarEntry[] = [
  row('1.29', '2024-01-23', '2025-03-23', '2026-03-23', EKS_PAGE, 'official'),
  row('1.30', '2024-05-23', '2025-07-23', '2026-07-23', EKS_PAGE, 'official'),
  row('1.31', '2024-09-26', '2025-11-26', '2026-11-26', EKS_PAGE, 'official'),
  row('1.32', '2025-01-23', '2026-03-23', '2027-03-23', EKS_PAGE, 'official'),
  row('1.33', '2025-05-29', '2026-07-29', '2027-07-29', EKS_PAGE, 'official'),
  row('1.34', '2025-10-02', '2026-12-02', '2027-12-02', EKS_PAGE, 'official'),
  row('1.35', '2026-01-27', '2027-03-27', '2028-03-27', EKS_PAGE, 'official'),
  row('1.36', '2026-06-02', '2027-08-02', '2028-08-02', 'https://endoflife.date/amazon-eks (from the EKS page)', 'secondary'),
];

const GKE_PAGE = 'https://cloud.google.com/kubernetes-engine/docs/release-schedule (via https://endoflife.date/google-kubernetes-engine)';

/**
 * Google Kubernetes Engine: about 14 months of standard support from availability in the Regular
 * channel, and up to 24 months in all on the Extended channel
 * (https://cloud.google.com/kubernetes-engine/versioning). The release schedule's own table could
 * not be read here: availability and end of standard support come from endoflife.date, which takes
 * them from it; the end of extended support is availability plus 24 months, the stated policy.
 */
export const GKE_CALENDAR: readonly VersionCalendarEntry[] = [
  gkeRow('1.31', '2024-10-25', '2026-01-16'),
  gkeRow('1.32', '2025-02-11', '2026-04-11'),
  gkeRow('1.33', '2025-06-03', '2026-08-03'),
  gkeRow('1.34', '2025-09-30', '2026-10-01'),
  gkeRow('1.35', '2026-02-11', '2027-04-11'),
  gkeRow('1.36', '2026-06-09', '2027-08-09'),
];

function row(
  version: string,
  released: string,
  endOfStandardSupport: string,
  endOfExtendedSupport: string,
  source: string,
  confidence: CalendarConfidence,
): VersionCalendarEntry {
  return { version, released, endOfStandardSupport, endOfExtendedSupport, source, confidence, checked: '2026-11-30' };
}

/** A GKE row: the end of extended support worked out as availability plus 24 months. */
function gkeRow(version: string, released: string, endOfStandardSupport: string): VersionCalendarEntry {
  const end = new Date(`${released}T00:00:00Z`);
  end.setUTCMonth(end.getUTCMonth() + 24);
  return row(version, released, endOfStandardSupport, end.toISOString().slice(0, 10), GKE_PAGE, 'secondary');
}
