import { describe, expect, it } from 'vitest';
import type { AddonPin } from '../../programs/versions.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';
import {
  compareChart,
  compareChartTags,
  compareEksAddon,
  compareEksCalendar,
  compareGkeCalendar,
  UnexpectedAnswer,
} from '../../scripts/check-versions/compare.js';
import { findingsOf, type ChartEntry, type FindingOptions, type VersionTables } from '../../scripts/check-versions/findings.js';
import { parseOptions, UsageError } from '../../scripts/check-versions/options.js';
import { exitCodeOf, renderJson, renderText, type Report } from '../../scripts/check-versions/report.js';

const TODAY = '2026-11-30';
const options: FindingOptions = { today: TODAY, horizonDays: 30, maxAgeDays: 90 };

function row(version: string, released: string, std: string, ext: string, more: Partial<VersionCalendarEntry> = {}): VersionCalendarEntry {
  const source = 'https://example.test/eks-versions';
  return {
    version,
    released,
    endOfStandardSupport: std,
    endOfExtendedSupport: ext,
    source,
    confidence: 'official',
    checked: '2026-11-01',
    ...more,
  };
}

const pin = (version: string, more: Partial<AddonPin> = {}): AddonPin => ({
  version,
  source: 'https://example.test/addons',
  confidence: 'official',
  checked: '2026-11-01',
  ...more,
});

function chart(name: string, versions: [string, ...string[]], more: Partial<ChartEntry> = {}): ChartEntry {
  return {
    chart: name,
    repo: `https://example.test/${name}`,
    versions,
    checked: { source: 'https://example.test/index.yaml', on: '2026-11-01' },
    ...more,
  };
}

function tables(more: Partial<VersionTables>): VersionTables {
  return { calendars: { EKS: [], GKE: [] }, eksAddonPins: {}, charts: [], ...more };
}

describe('check:versions, from the tables alone', () => {
  it('reports each calendar row by its support dates and its check, and stays quiet about what needs nothing', () => {
    const EKS = [
      // Ended before it was last checked: history, neither aged nor to confirm.
      row('1.29', '2024-01-23', '2025-03-23', '2026-03-23', { confidence: 'secondary', checked: '2026-04-01' }),
      row('1.31', '2024-09-26', '2025-11-26', '2026-11-26'),
      row('1.32', '2025-01-23', '2026-03-23', '2027-03-23'),
      row('1.34', '2025-10-02', '2026-12-02', '2027-12-02', { checked: '2026-08-01' }),
      row('1.35', '2026-01-27', '2027-03-27', '2028-03-27', { confidence: 'inferred' }),
      row('1.36', '2026-06-02', '2027-08-02', '2028-08-02'),
    ];
    expect(findingsOf(tables({ calendars: { EKS, GKE: [] } }), options).filter((f) => f.kind === 'calendar')).toEqual([
      { kind: 'calendar', severity: 'note', subject: 'EKS 1.29', message: 'out of support since 2026-03-23' },
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'EKS 1.31',
        message:
          'extended support ended 2026-11-26, after the row was checked (2026-11-01): confirm the date with the provider and set checked',
      },
      { kind: 'calendar', severity: 'note', subject: 'EKS 1.32', message: 'in extended support until 2027-03-23' },
      { kind: 'calendar', severity: 'soon', subject: 'EKS 1.34', message: 'standard support ends in 2 days (2026-12-02)' },
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'EKS 1.34',
        message: 'checked 2026-08-01, 121 days ago (more than 90): check it against https://example.test/eks-versions',
      },
      { kind: 'calendar', severity: 'note', subject: 'EKS 1.35', message: 'to confirm (inferred): https://example.test/eks-versions' },
    ]);
  });

  it('makes a date that passed after the last check due until the row is checked again', () => {
    const ended = row('1.33', '2025-05-29', '2026-07-29', '2027-07-29', { checked: '2026-07-01' });
    const due = findingsOf(tables({ calendars: { EKS: [], GKE: [ended] } }), options);
    expect(due.map((f) => [f.severity, f.message])).toEqual([
      [
        'due',
        'standard support ended 2026-07-29, after the row was checked (2026-07-01): confirm the date with the provider and set checked',
      ],
      ['due', 'checked 2026-07-01, 152 days ago (more than 90): check it against https://example.test/eks-versions'],
      ['due', 'the newest version listed, and its standard support ends 2026-07-29: a newer version is probably out, check the provider'],
    ]);
    const confirmed = { ...ended, checked: '2026-11-30' };
    const newer = row('1.34', '2025-10-02', '2027-02-02', '2028-02-02');
    expect(findingsOf(tables({ calendars: { EKS: [], GKE: [confirmed, newer] } }), options)).toEqual([
      { kind: 'calendar', severity: 'note', subject: 'GKE 1.33', message: 'in extended support until 2027-07-29' },
    ]);
  });

  it('counts the horizon and the maximum age in whole days, both configurable', () => {
    const GKE = [
      row('1.34', '2025-09-30', '2026-12-30', '2027-09-30', { checked: '2026-09-01' }),
      row('1.35', '2026-02-11', '2026-12-31', '2028-02-11', { checked: '2026-08-31' }),
    ];
    const found = (o: Partial<FindingOptions>) =>
      findingsOf(tables({ calendars: { EKS: [], GKE } }), { ...options, ...o }).map((f) => `${f.severity} ${f.subject}: ${f.message}`);
    expect(found({})).toEqual([
      'soon GKE 1.34: standard support ends in 30 days (2026-12-30)',
      'due GKE 1.35: checked 2026-08-31, 91 days ago (more than 90): check it against https://example.test/eks-versions',
    ]);
    expect(found({ horizonDays: 31 })).toEqual([
      'soon GKE 1.34: standard support ends in 30 days (2026-12-30)',
      'soon GKE 1.35: standard support ends in 31 days (2026-12-31)',
      'due GKE 1.35: checked 2026-08-31, 91 days ago (more than 90): check it against https://example.test/eks-versions',
      'due GKE 1.35: the newest version listed, and its standard support ends 2026-12-31: a newer version is probably out, check the provider',
    ]);
    expect(found({ horizonDays: 7, maxAgeDays: 120 })).toEqual([]);
    const inExtended = [row('1.33', '2025-06-03', '2026-08-03', '2026-12-15'), row('1.34', '2025-09-30', '2027-02-01', '2027-09-30')];
    const extendedFound = (o: Partial<FindingOptions>) =>
      findingsOf(tables({ calendars: { EKS: [], GKE: inExtended } }), { ...options, ...o }).map(
        (f) => `${f.severity} ${f.subject}: ${f.message}`,
      );
    expect(extendedFound({})).toEqual(['soon GKE 1.33: extended support ends in 15 days (2026-12-15)']);
    expect(extendedFound({ horizonDays: 14 })).toEqual(['note GKE 1.33: in extended support until 2026-12-15']);
  });

  it('ages each add-on pin, lists the ones to confirm, and names versions without pins or with pins no longer needed', () => {
    const EKS = [
      row('1.30', '2024-05-23', '2025-07-23', '2026-07-23'),
      row('1.34', '2025-10-02', '2027-02-02', '2028-02-02'),
      row('1.35', '2026-01-27', '2027-03-27', '2028-03-27'),
      row('1.37', '2027-01-27', '2028-03-27', '2029-03-27'),
    ];
    const eksAddonPins = {
      '1.30': { coredns: pin('v1.11.4-eksbuild.22', { checked: '2025-01-01' }) },
      '1.34': {
        coredns: pin('v1.12.3-eksbuild.1', { checked: '2026-05-01' }),
        'vpc-cni': pin('v1.20.4-eksbuild.2', { confidence: 'secondary', source: 'a running cluster' }),
      },
    };
    expect(findingsOf(tables({ calendars: { EKS, GKE: [] }, eksAddonPins }), options).filter((f) => f.kind === 'pins')).toEqual([
      {
        kind: 'pins',
        severity: 'note',
        subject: 'EKS 1.30',
        message: 'out of support since 2026-07-23: its pins can go once no cluster runs it',
      },
      {
        kind: 'pins',
        severity: 'due',
        subject: 'EKS 1.34 coredns',
        message: 'checked 2026-05-01, 213 days ago (more than 90): check it against https://example.test/addons',
      },
      { kind: 'pins', severity: 'note', subject: 'EKS 1.34 vpc-cni', message: 'to confirm (secondary): a running cluster' },
      // 1.37 is not released yet: no pins expected.
      {
        kind: 'pins',
        severity: 'note',
        subject: 'EKS 1.35',
        message: 'in standard support, but no add-on pins: the eks blueprint cannot offer it until a release adds them',
      },
    ]);
  });

  it('ages each chart by its check date, except a retired one, which it names', () => {
    const charts = [
      chart('cert-manager', ['v1.17.2', 'v1.18.2'], { checked: { source: 'https://charts.example.test/index.yaml', on: '2026-06-01' } }),
      chart('metrics-server', ['3.13.0']),
      chart('ingress-nginx', ['4.15.1'], {
        checked: { source: 'archived', on: '2026-03-24' },
        retired: {
          since: '2026-03-24',
          reason: 'no releases or security fixes',
          source: 'https://example.test',
          replacedBy: 'envoyGateway',
        },
      }),
    ];
    expect(findingsOf(tables({ charts }), options)).toEqual([
      {
        kind: 'charts',
        severity: 'due',
        subject: 'cert-manager v1.18.2',
        message: 'checked 2026-06-01, 182 days ago (more than 90): check it against https://charts.example.test/index.yaml',
      },
      {
        kind: 'charts',
        severity: 'note',
        subject: 'ingress-nginx 4.15.1',
        message: 'retired since 2026-03-24: no releases or security fixes; replaced by envoyGateway',
      },
    ]);
  });
});

describe('check:versions, against the providers', () => {
  const EKS = [
    row('1.29', '2024-01-23', '2025-03-23', '2026-03-23'),
    row('1.33', '2025-05-29', '2026-07-29', '2027-07-29'),
    row('1.34', '2025-10-02', '2026-12-02', '2027-12-02'),
    row('1.35', '2026-01-27', '2027-03-27', '2028-03-27'),
  ];

  it('compares every EKS date, in the AWS CLI v2 (ISO) and v1 (epoch seconds) forms, and lists the versions only one side has', () => {
    const seconds = (day: string) => Date.parse(`${day}T00:00:00Z`) / 1000;
    const answer = {
      clusterVersions: [
        {
          clusterVersion: '1.34',
          clusterType: 'eks',
          releaseDate: '2025-10-02T00:00:00+00:00',
          endOfStandardSupportDate: '2026-12-02T00:00:00+00:00',
          endOfExtendedSupportDate: '2027-12-02T00:00:00+00:00',
          versionStatus: 'STANDARD_SUPPORT',
        },
        {
          clusterVersion: '1.35',
          releaseDate: seconds('2026-01-27'),
          endOfStandardSupportDate: seconds('2027-03-28'),
          endOfExtendedSupportDate: seconds('2028-03-28'),
        },
        { clusterVersion: '1.37', clusterType: 'eks', versionStatus: 'STANDARD_SUPPORT' },
        { clusterVersion: '1.37', clusterType: 'eks-local-outposts', versionStatus: 'STANDARD_SUPPORT' },
        { clusterVersion: '1.28', versionStatus: 'UNSUPPORTED' },
      ],
    };
    expect(compareEksCalendar(EKS, answer, TODAY)).toEqual([
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'EKS 1.35',
        message:
          'end of standard support 2027-03-27 in the table, 2027-03-28 at EKS; end of extended support 2028-03-27 in the table, 2028-03-28 at EKS',
      },
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'EKS 1.37',
        message: 'EKS lists it (STANDARD_SUPPORT), the calendar does not: add the row',
      },
      {
        kind: 'calendar',
        severity: 'note',
        subject: 'EKS 1.33',
        message: 'supported until 2027-07-29 by the table, but EKS does not list it',
      },
    ]);
  });

  it('finds each pin among the add-on versions EKS offers for its Kubernetes version, and names the default', () => {
    const answer = {
      addons: [
        {
          addonName: 'coredns',
          addonVersions: [
            {
              addonVersion: 'v1.12.4-eksbuild.1',
              compatibilities: [
                { clusterVersion: '1.34', defaultVersion: true },
                { clusterVersion: '1.33', defaultVersion: false },
              ],
            },
            { addonVersion: 'v1.12.3-eksbuild.1', compatibilities: [{ clusterVersion: '1.34', defaultVersion: false }] },
          ],
        },
      ],
    };
    expect(compareEksAddon('1.34', 'coredns', pin('v1.12.4-eksbuild.1'), answer)).toEqual([]);
    expect(compareEksAddon('1.34', 'coredns', pin('v1.12.3-eksbuild.1'), answer)).toEqual([
      {
        kind: 'pins',
        severity: 'note',
        subject: 'EKS 1.34 coredns',
        message: "pinned v1.12.3-eksbuild.1; EKS's default for 1.34 is v1.12.4-eksbuild.1",
      },
    ]);
    expect(compareEksAddon('1.34', 'coredns', pin('v1.11.0-eksbuild.1'), answer)).toEqual([
      {
        kind: 'pins',
        severity: 'due',
        subject: 'EKS 1.34 coredns',
        message: 'pinned v1.11.0-eksbuild.1, which EKS does not offer for 1.34; its default is v1.12.4-eksbuild.1',
      },
    ]);
    expect(compareEksAddon('1.33', 'coredns', pin('v1.12.3-eksbuild.1'), answer)[0]?.message).toBe(
      'pinned v1.12.3-eksbuild.1, which EKS does not offer for 1.33',
    );
  });

  it("reads GKE's channels and static versions, and holds the Regular channel to the calendar's release day", () => {
    const GKE = [
      row('1.33', '2025-06-03', '2026-08-03', '2027-06-03'),
      row('1.34', '2025-09-30', '2026-10-01', '2027-09-30'),
      row('1.35', '2026-02-11', '2027-04-11', '2028-02-11'),
      row('1.36', '2026-12-09', '2028-02-09', '2028-12-09'),
    ];
    const answer = {
      channels: [
        { channel: 'RAPID', defaultVersion: '1.36.2-gke.100', validVersions: ['1.37.0-gke.100', '1.36.2-gke.100'] },
        { channel: 'REGULAR', defaultVersion: '1.35.4-gke.100', validVersions: ['1.36.1-gke.100', '1.35.4-gke.100', '1.35.3-gke.200'] },
      ],
      validMasterVersions: ['1.36.1-gke.100', '1.35.4-gke.100', '1.34.9-gke.100'],
      defaultClusterVersion: '1.35.4-gke.100',
    };
    expect(compareGkeCalendar(GKE, answer, TODAY)).toEqual([
      { kind: 'calendar', severity: 'note', subject: 'GKE RAPID', message: 'default 1.36.2-gke.100; offers 1.37, 1.36' },
      { kind: 'calendar', severity: 'note', subject: 'GKE REGULAR', message: 'default 1.35.4-gke.100; offers 1.36, 1.35' },
      { kind: 'calendar', severity: 'due', subject: 'GKE 1.37', message: 'GKE offers it (RAPID), the calendar does not: add the row' },
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'GKE 1.36',
        message: 'already in the Regular channel; the calendar says from 2026-12-09',
      },
      {
        kind: 'calendar',
        severity: 'note',
        subject: 'GKE 1.33',
        message: 'supported until 2027-06-03 by the table, but GKE offers it in no channel and not as a static version',
      },
    ]);
  });

  it("reads a chart repository's index: versions no longer published, and a newer stable one (not a prerelease, not deprecated)", () => {
    const index = [
      'apiVersion: v1',
      'entries:',
      '  cert-manager:',
      '    - version: v1.20.0-alpha.1',
      '    - version: v1.19.9',
      '      deprecated: true',
      '    - version: v1.19.1',
      '    - version: v1.18.2',
      'generated: "2026-11-01T00:00:00Z"',
    ].join('\n');
    expect(compareChart(chart('cert-manager', ['v1.17.2', 'v1.18.2']), index)).toEqual([
      { kind: 'charts', severity: 'due', subject: 'cert-manager v1.18.2', message: 'no longer published: v1.17.2' },
      { kind: 'charts', severity: 'note', subject: 'cert-manager v1.18.2', message: 'the newest stable version published is v1.19.1' },
    ]);
    expect(compareChart(chart('cert-manager', ['v1.18.2']), index.replace('v1.19.1', 'v1.18.1'))).toEqual([]);
    expect(compareChart(chart('metrics-server', ['3.13.0']), index)).toEqual([
      {
        kind: 'charts',
        severity: 'due',
        subject: 'metrics-server 3.13.0',
        message: "the repository's index has no chart named metrics-server",
      },
    ]);
  });

  it("reads an OCI registry's tags, where Helm writes a version's + as _", () => {
    const answer = { name: 'envoyproxy/gateway-helm', tags: ['v1.8.0', 'v1.9.0_1', 'v1.10.0-rc.1', 'v0.0.0-latest'] };
    expect(compareChartTags(chart('gateway-helm', ['v1.8.0', 'v1.9.0+1']), answer)).toEqual([]);
    expect(compareChartTags(chart('gateway-helm', ['v1.7.0']), answer)).toEqual([
      { kind: 'charts', severity: 'due', subject: 'gateway-helm v1.7.0', message: 'no longer published: v1.7.0' },
      { kind: 'charts', severity: 'note', subject: 'gateway-helm v1.7.0', message: 'the newest stable version published is v1.9.0+1' },
    ]);
  });

  it('refuses an answer of another shape, naming the command and the field', () => {
    expect(() => compareEksCalendar(EKS, { versions: [] }, TODAY)).toThrow(UnexpectedAnswer);
    expect(() => compareEksCalendar(EKS, { versions: [] }, TODAY)).toThrow(
      'unexpected answer from aws eks describe-cluster-versions: clusterVersions: Invalid input: expected array, received undefined',
    );
    expect(() => compareChart(chart('x', ['1.0.0']), 'entries: [1, 2]')).toThrow(
      /^unexpected answer from https:\/\/example.test\/x index.yaml: entries: /,
    );
  });
});

describe('check:versions, its output', () => {
  const report: Report = {
    today: TODAY,
    horizonDays: 30,
    maxAgeDays: 90,
    findings: [
      { kind: 'charts', severity: 'note', subject: 'ingress-nginx 4.15.1', message: 'retired since 2026-03-24: no fixes' },
      { kind: 'calendar', severity: 'soon', subject: 'EKS 1.34', message: 'standard support ends in 2 days (2026-12-02)' },
      {
        kind: 'calendar',
        severity: 'due',
        subject: 'EKS 1.31',
        message: 'checked 2026-08-01, 121 days ago (more than 90): check it against x',
      },
    ],
    skipped: ['EKS (aws): aws sts get-caller-identity: not on PATH'],
  };

  it('prints a table grouped by kind, most pressing first, then the skipped sources and a summary', () => {
    expect(renderText(report)).toBe(
      [
        'Version tables on 2026-11-30: dates within 30 days are soon, checks older than 90 days are due.',
        '',
        'calendar',
        '  due   EKS 1.31              checked 2026-08-01, 121 days ago (more than 90): check it against x',
        '  soon  EKS 1.34              standard support ends in 2 days (2026-12-02)',
        '',
        'pins',
        '  nothing to report',
        '',
        'charts',
        '  note  ingress-nginx 4.15.1  retired since 2026-03-24: no fixes',
        '',
        'skipped: EKS (aws): aws sts get-caller-identity: not on PATH',
        '',
        '1 due, 1 soon, 1 to note, 1 source skipped: refresh the tables (docs/versions.md, "Refreshing the tables")',
        '',
      ].join('\n'),
    );
  });

  it('prints the same as JSON with a summary, and exits 1 only when something is due', () => {
    expect(JSON.parse(renderJson(report))).toEqual({ ...report, summary: { due: 1, soon: 1, note: 1 } });
    expect(exitCodeOf(report.findings)).toBe(1);
    expect(exitCodeOf(report.findings.filter((f) => f.severity !== 'due'))).toBe(0);
  });

  it('takes days as 90d or 90 and refuses anything else, naming the flag', () => {
    expect(parseOptions([])).toEqual({
      maxAgeDays: 90,
      horizonDays: 30,
      offline: false,
      gkeRegion: 'us-central1',
      json: false,
      help: false,
    });
    expect(parseOptions(['--max-age', '45d', '--horizon=14', '--offline', '--json', '--gke-region', 'europe-west1'])).toEqual({
      maxAgeDays: 45,
      horizonDays: 14,
      offline: true,
      gkeRegion: 'europe-west1',
      json: true,
      help: false,
    });
    expect(() => parseOptions(['--max-age', '3m'])).toThrow(new UsageError('--max-age must be a whole number of days, as 90d (got "3m")'));
    expect(() => parseOptions(['--since', '1d'])).toThrow(UsageError);
  });
});
