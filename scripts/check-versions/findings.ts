/**
 * What the version tables say is due on a day, from the tables alone: support dates passed or
 * close, rows and pins not checked for too long, values still to confirm, retired add-ons, a newest
 * version about to leave standard support. Pure: the tables and the day are arguments.
 */
import type { CatalogEntry } from '../../programs/addon-catalog.js';
import type { AddonPin } from '../../programs/versions.js';
import type { CalendarConfidence, VersionCalendarEntry } from '../../src/domain/version-support.js';

/** Which table a finding is about. */
export type FindingKind = 'calendar' | 'pins' | 'charts';
export const FINDING_KINDS: readonly FindingKind[] = ['calendar', 'pins', 'charts'];

/**
 * `due`: a date passed since the last check, a check is too old, or a provider disagrees with the
 * table (the run exits 1). `soon`: a date falls within the horizon. `note`: to confirm, or to know.
 */
export type Severity = 'due' | 'soon' | 'note';
export const SEVERITIES: readonly Severity[] = ['due', 'soon', 'note'];

export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** What it is about: `EKS 1.33`, `EKS 1.33 coredns`, `cert-manager v1.18.2`. */
  subject: string;
  /** What was found, and what to do where that is not obvious. One line. */
  message: string;
}

/** The catalog fields the check reads. */
export type ChartEntry = Pick<CatalogEntry, 'chart' | 'repo' | 'versions' | 'checked' | 'retired'>;

/** The tables, as programs/ exports them. */
export interface VersionTables {
  calendars: { EKS: readonly VersionCalendarEntry[]; GKE: readonly VersionCalendarEntry[] };
  /** EKS-managed add-on pins by Kubernetes minor version, then by add-on name. */
  eksAddonPins: Readonly<Record<string, Readonly<Record<string, AddonPin>>>>;
  charts: readonly ChartEntry[];
}

export interface FindingOptions {
  /** The day to judge on, `YYYY-MM-DD` (UTC). */
  today: string;
  /** A date at most this many days ahead is reported as `soon`. @defaultValue 30 */
  horizonDays: number;
  /** A `checked` date more than this many days old is `due`. @defaultValue 90 */
  maxAgeDays: number;
}

const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` (both `YYYY-MM-DD`), negative when `to` is earlier. */
export const daysBetween = (from: string, to: string) =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

const minorOf = (version: string) => Number(version.split('.')[1]);

export function findingsOf(tables: VersionTables, options: FindingOptions): Finding[] {
  return [
    ...calendarFindings('EKS', tables.calendars.EKS, options),
    ...calendarFindings('GKE', tables.calendars.GKE, options),
    ...pinFindings(tables.eksAddonPins, tables.calendars.EKS, options),
    ...chartFindings(tables.charts, options),
  ];
}

function calendarFindings(provider: string, rows: readonly VersionCalendarEntry[], o: FindingOptions): Finding[] {
  const found: Finding[] = [];
  const add = (subject: string, severity: Severity, message: string) => found.push({ kind: 'calendar', severity, subject, message });
  for (const row of rows) {
    const subject = `${provider} ${row.version}`;
    const dates = supportDates(row, o);
    if (dates) add(subject, dates.severity, dates.message);
    // A row checked after its support ended will not change again: it no longer ages, nor waits for confirmation.
    if (row.endOfExtendedSupport <= row.checked) continue;
    for (const f of checkFindings(row.checked, row.source, row.confidence, o)) add(subject, f.severity, f.message);
  }
  const newest = [...rows].sort((a, b) => minorOf(b.version) - minorOf(a.version))[0];
  if (newest && daysBetween(o.today, newest.endOfStandardSupport) <= o.horizonDays)
    add(
      `${provider} ${newest.version}`,
      'due',
      `the newest version listed, and its standard support ends ${newest.endOfStandardSupport}: a newer version is probably out, check the provider`,
    );
  return found;
}

/** What the row's support dates say on the day: at most one finding, the most pressing. */
function supportDates(row: VersionCalendarEntry, o: FindingOptions): Omit<Finding, 'kind' | 'subject'> | null {
  const passed = (day: string) => day <= o.today;
  // A date that passed after the row was last checked is due once: providers move dates (an
  // extension, an earlier end), so someone confirms the row and sets `checked`, which clears it.
  const sinceChecked = (day: string, what: string) => ({
    severity: 'due' as const,
    message: `${what} ended ${day}, after the row was checked (${row.checked}): confirm the date with the provider and set checked`,
  });
  const ext = row.endOfExtendedSupport;
  const std = row.endOfStandardSupport;
  if (passed(ext))
    return row.checked < ext ? sinceChecked(ext, 'extended support') : { severity: 'note', message: `out of support since ${ext}` };
  if (passed(std)) {
    if (row.checked < std) return sinceChecked(std, 'standard support');
    const left = daysBetween(o.today, ext);
    return left <= o.horizonDays
      ? { severity: 'soon', message: `extended support ends in ${left} days (${ext})` }
      : { severity: 'note', message: `in extended support until ${ext}` };
  }
  const left = daysBetween(o.today, std);
  return left <= o.horizonDays ? { severity: 'soon', message: `standard support ends in ${left} days (${std})` } : null;
}

/** A check date older than the maximum age; a value not read on the provider's own page. */
function checkFindings(checked: string, source: string, confidence: CalendarConfidence | null, o: FindingOptions) {
  const found: Omit<Finding, 'kind' | 'subject'>[] = [];
  const age = daysBetween(checked, o.today);
  if (age > o.maxAgeDays)
    found.push({ severity: 'due', message: `checked ${checked}, ${age} days ago (more than ${o.maxAgeDays}): check it against ${source}` });
  if (confidence && confidence !== 'official') found.push({ severity: 'note', message: `to confirm (${confidence}): ${source}` });
  return found;
}

function pinFindings(pins: VersionTables['eksAddonPins'], calendar: readonly VersionCalendarEntry[], o: FindingOptions): Finding[] {
  const found: Finding[] = [];
  const add = (subject: string, severity: Severity, message: string) => found.push({ kind: 'pins', severity, subject, message });
  for (const [version, addons] of Object.entries(pins)) {
    const row = calendar.find((r) => r.version === version);
    if (row && row.endOfExtendedSupport <= o.today) {
      add(`EKS ${version}`, 'note', `out of support since ${row.endOfExtendedSupport}: its pins can go once no cluster runs it`);
      continue;
    }
    for (const [addon, pin] of Object.entries(addons))
      for (const f of checkFindings(pin.checked, pin.source, pin.confidence, o)) add(`EKS ${version} ${addon}`, f.severity, f.message);
  }
  for (const row of calendar)
    if (row.released <= o.today && o.today < row.endOfStandardSupport && !pins[row.version])
      add(
        `EKS ${row.version}`,
        'note',
        'in standard support, but no add-on pins: the eks blueprint cannot offer it until a release adds them',
      );
  return found;
}

function chartFindings(charts: readonly ChartEntry[], o: FindingOptions): Finding[] {
  const found: Finding[] = [];
  for (const entry of charts) {
    const subject = `${entry.chart} ${entry.versions[entry.versions.length - 1]}`;
    const { retired } = entry;
    if (retired) {
      // A retired project publishes nothing more: its check date does not age.
      const replaced = retired.replacedBy ? `; replaced by ${retired.replacedBy}` : '';
      found.push({ kind: 'charts', severity: 'note', subject, message: `retired since ${retired.since}: ${retired.reason}${replaced}` });
      continue;
    }
    for (const f of checkFindings(entry.checked.on, entry.checked.source, null, o)) found.push({ kind: 'charts', subject, ...f });
  }
  return found;
}
