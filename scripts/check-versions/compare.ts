/**
 * The tables against what the providers answer: `aws eks describe-cluster-versions`,
 * `aws eks describe-addon-versions`, `gcloud container get-server-config`, a chart repository's
 * index.yaml or an OCI registry's tag list. Pure: each function takes the answer (parsed JSON, or
 * the index's text) and returns findings; an answer of another shape throws UnexpectedAnswer.
 */
import semver from 'semver';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { AddonPin } from '../../programs/versions.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';
import type { ChartEntry, Finding } from './findings.js';

/** A provider answered with something the check does not know how to read. */
export class UnexpectedAnswer extends Error {
  constructor(what: string, error: z.ZodError) {
    const issue = error.issues[0];
    super(`unexpected answer from ${what}: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'unreadable'}`);
    this.name = new.target.name;
  }
}

function read<T extends z.ZodType>(schema: T, answer: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new UnexpectedAnswer(what, parsed.error);
  return parsed.data;
}

/** The AWS CLI prints timestamps as ISO 8601 (v2) or seconds since the epoch (v1's default): the UTC day of either. */
const day = z.union([z.string(), z.number()]).transform((t) => new Date(typeof t === 'number' ? t * 1000 : t).toISOString().slice(0, 10));

const EksClusterVersions = z.object({
  clusterVersions: z.array(
    z.object({
      clusterVersion: z.string(),
      clusterType: z.string().optional(),
      releaseDate: day.optional(),
      endOfStandardSupportDate: day.optional(),
      endOfExtendedSupportDate: day.optional(),
      versionStatus: z.string().optional(),
    }),
  ),
});

const DATE_FIELDS = [
  ['released', 'releaseDate', 'release'],
  ['endOfStandardSupport', 'endOfStandardSupportDate', 'end of standard support'],
  ['endOfExtendedSupport', 'endOfExtendedSupportDate', 'end of extended support'],
] as const;

/** The EKS calendar against `aws eks describe-cluster-versions --output json`. */
export function compareEksCalendar(calendar: readonly VersionCalendarEntry[], answer: unknown, today: string): Finding[] {
  const listed = read(EksClusterVersions, answer, 'aws eks describe-cluster-versions').clusterVersions.filter(
    (v) => v.clusterType === undefined || v.clusterType === 'eks',
  );
  const found: Finding[] = [];
  const add = (version: string, severity: Finding['severity'], message: string) =>
    found.push({ kind: 'calendar', severity, subject: `EKS ${version}`, message });
  for (const provider of listed) {
    const row = calendar.find((r) => r.version === provider.clusterVersion);
    if (!row) {
      if (provider.versionStatus !== 'UNSUPPORTED')
        add(provider.clusterVersion, 'due', `EKS lists it (${provider.versionStatus ?? 'no status'}), the calendar does not: add the row`);
      continue;
    }
    const differences = DATE_FIELDS.filter(([ours, theirs]) => provider[theirs] !== undefined && provider[theirs] !== row[ours]).map(
      ([ours, theirs, label]) => `${label} ${row[ours]} in the table, ${provider[theirs]} at EKS`,
    );
    if (differences.length > 0) add(row.version, 'due', differences.join('; '));
  }
  for (const row of calendar)
    if (row.released <= today && today < row.endOfExtendedSupport && !listed.some((v) => v.clusterVersion === row.version))
      add(row.version, 'note', `supported until ${row.endOfExtendedSupport} by the table, but EKS does not list it`);
  return found;
}

const EksAddonVersions = z.object({
  addons: z.array(
    z.object({
      addonName: z.string(),
      addonVersions: z.array(
        z.object({
          addonVersion: z.string(),
          compatibilities: z.array(z.object({ clusterVersion: z.string(), defaultVersion: z.boolean().optional() })).default([]),
        }),
      ),
    }),
  ),
});

/** One pin against `aws eks describe-addon-versions --kubernetes-version <version> --addon-name <addon> --output json`. */
export function compareEksAddon(version: string, addon: string, pin: AddonPin, answer: unknown): Finding[] {
  const addons = read(EksAddonVersions, answer, 'aws eks describe-addon-versions').addons.filter((a) => a.addonName === addon);
  const offered = addons.flatMap((a) => a.addonVersions).filter((v) => v.compatibilities.some((c) => c.clusterVersion === version));
  const byDefault = offered.find((v) => v.compatibilities.some((c) => c.clusterVersion === version && c.defaultVersion))?.addonVersion;
  const subject = `EKS ${version} ${addon}`;
  if (!offered.some((v) => v.addonVersion === pin.version)) {
    const instead = byDefault ? `; its default is ${byDefault}` : '';
    return [
      { kind: 'pins', severity: 'due', subject, message: `pinned ${pin.version}, which EKS does not offer for ${version}${instead}` },
    ];
  }
  if (byDefault && byDefault !== pin.version)
    return [{ kind: 'pins', severity: 'note', subject, message: `pinned ${pin.version}; EKS's default for ${version} is ${byDefault}` }];
  return [];
}

const GkeServerConfig = z.object({
  channels: z
    .array(z.object({ channel: z.string(), defaultVersion: z.string().optional(), validVersions: z.array(z.string()).default([]) }))
    .default([]),
  validMasterVersions: z.array(z.string()).default([]),
});

/** `1.33` of `1.33.5-gke.1201000`. */
const gkeMinor = (version: string) => /^\d+\.\d+/.exec(version)?.[0] ?? version;

/**
 * The GKE calendar against `gcloud container get-server-config --format=json`: the minor versions
 * each channel (and the static versions) offers, and the Regular channel against `released`, which
 * is the day a version became available there.
 */
export function compareGkeCalendar(calendar: readonly VersionCalendarEntry[], answer: unknown, today: string): Finding[] {
  const config = read(GkeServerConfig, answer, 'gcloud container get-server-config');
  const offeredBy = new Map<string, Set<string>>();
  const offer = (version: string, where: string) =>
    offeredBy.set(gkeMinor(version), (offeredBy.get(gkeMinor(version)) ?? new Set()).add(where));
  for (const c of config.channels) for (const v of c.validVersions) offer(v, c.channel);
  for (const v of config.validMasterVersions) offer(v, 'static');

  const found: Finding[] = [];
  const add = (subject: string, severity: Finding['severity'], message: string) =>
    found.push({ kind: 'calendar', severity, subject, message });
  for (const c of config.channels) {
    const minors = [...new Set(c.validVersions.map(gkeMinor))].join(', ');
    add(`GKE ${c.channel}`, 'note', `default ${c.defaultVersion ?? 'none'}; offers ${minors || 'nothing'}`);
  }
  for (const [minor, where] of offeredBy) {
    const row = calendar.find((r) => r.version === minor);
    const channels = [...where].join(', ');
    if (!row) add(`GKE ${minor}`, 'due', `GKE offers it (${channels}), the calendar does not: add the row`);
    else if (where.has('REGULAR') && today < row.released)
      add(`GKE ${minor}`, 'due', `already in the Regular channel; the calendar says from ${row.released}`);
  }
  for (const row of calendar)
    if (row.released <= today && today < row.endOfExtendedSupport && !offeredBy.has(row.version))
      add(
        `GKE ${row.version}`,
        'note',
        `supported until ${row.endOfExtendedSupport} by the table, but GKE offers it in no channel and not as a static version`,
      );
  return found;
}

const HelmIndex = z.object({
  entries: z.record(z.string(), z.array(z.object({ version: z.coerce.string(), deprecated: z.boolean().optional() }))),
});

/** A catalog entry against its Helm repository's index.yaml (the file's text). */
export function compareChart(entry: ChartEntry, indexYaml: string): Finding[] {
  const published = read(HelmIndex, parseYaml(indexYaml), `${entry.repo} index.yaml`).entries[entry.chart] ?? [];
  if (published.length === 0) return [chartFinding(entry, 'due', `the repository's index has no chart named ${entry.chart}`)];
  return comparePublished(entry, published);
}

const OciTags = z.object({ tags: z.array(z.string()).nullable().default([]) });

/** A catalog entry in an OCI registry against the registry's tag list (`GET /v2/<name>/tags/list`, parsed JSON). */
export function compareChartTags(entry: ChartEntry, answer: unknown): Finding[] {
  const tags = read(OciTags, answer, `${entry.repo} tags`).tags ?? [];
  if (tags.length === 0) return [chartFinding(entry, 'due', 'the registry lists no tags for the chart')];
  // Helm stores a version's "+" as "_" in an OCI tag, which may not hold "+".
  return comparePublished(
    entry,
    tags.map((t) => ({ version: t.replaceAll('_', '+') })),
  );
}

function comparePublished(entry: ChartEntry, published: readonly { version: string; deprecated?: boolean }[]): Finding[] {
  const found: Finding[] = [];
  const missing = entry.versions.filter((v) => !published.some((p) => p.version === v));
  if (missing.length > 0) found.push(chartFinding(entry, 'due', `no longer published: ${missing.join(', ')}`));
  const stable = published
    .filter((p) => !p.deprecated && semver.valid(p.version) && !semver.prerelease(p.version))
    .map((p) => p.version)
    .sort(semver.rcompare);
  const theirs = stable[0];
  const ours = newestOf(entry);
  if (theirs && semver.valid(ours) && semver.gt(theirs, ours))
    found.push(chartFinding(entry, 'note', `the newest stable version published is ${theirs}`));
  return found;
}

const newestOf = (entry: ChartEntry) => entry.versions[entry.versions.length - 1]!;

const chartFinding = (entry: ChartEntry, severity: Finding['severity'], message: string): Finding => ({
  kind: 'charts',
  severity,
  subject: `${entry.chart} ${newestOf(entry)}`,
  message,
});
