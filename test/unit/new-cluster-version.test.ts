import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Blueprint } from '../../src/blueprints/blueprint.js';
import type { VersionCalendarEntry } from '../../src/domain/version-support.js';
import { InputError } from '../../src/errors.js';
import { clusterSupport } from '../../src/versions/cluster-support.js';
import { checkNewSpec, supportChangeIssues, versionNewSpec } from '../../src/versions/new-cluster-version.js';

const row = (version: string, released: string, standard: string, extended: string): VersionCalendarEntry => ({
  version,
  released,
  endOfStandardSupport: standard,
  endOfExtendedSupport: extended,
  source: 'test',
  confidence: 'official',
  checked: '2026-11-30',
});

const calendar = [
  row('1.31', '2024-09-26', '2025-11-26', '2026-11-26'),
  row('1.33', '2025-05-29', '2026-07-29', '2027-07-29'),
  row('1.34', '2025-10-02', '2026-12-02', '2027-12-02'),
  row('1.35', '2026-01-27', '2027-03-27', '2028-03-27'),
  row('1.36', '2026-06-02', '2027-08-02', '2028-08-02'),
  row('1.37', '2027-01-10', '2028-03-10', '2029-03-10'),
];

const schema = z.strictObject({
  version: z.enum(['1.31', '1.33', '1.34', '1.35', '1.36', '1.37']),
  upgradePolicy: z.enum(['STANDARD', 'EXTENDED']).default('STANDARD'),
});
type Spec = z.infer<typeof schema>;

/** A blueprint like EKS: extended support asked for in the spec; 1.36's add-ons not verified. */
const withExtended: Blueprint<Spec> = {
  name: 'like-eks',
  description: 'test',
  specSchema: schema,
  versions: {
    calendar,
    field: 'version',
    offered: (v) => v !== '1.36',
    extendedSupport: { defaults: { upgradePolicy: 'EXTENDED' }, field: 'upgradePolicy', isOn: (s) => s.upgradePolicy === 'EXTENDED' },
  },
  program: () => async () => ({}),
};
const withoutExtended: Blueprint<Spec> = { ...withExtended, name: 'like-gke', versions: { calendar, field: 'version' } };

const at = (iso: string) => Date.parse(iso);
const NOW = at('2026-11-30T12:00:00Z');

/** The rule a refusal names, with its field. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof InputError) return err.issues.map((i) => `${i.field}|${i.rule}`).join();
    throw err;
  }
  return 'accepted';
}

describe('the version rules of a new cluster', () => {
  const create = (bp: Blueprint<Spec>, spec: Record<string, unknown>, now = NOW, allowExtendedSupport = false) => {
    const options = { now, allowExtendedSupport };
    const versioned = versionNewSpec(bp, spec, options);
    const parsed = schema.parse(versioned.spec);
    checkNewSpec(bp, parsed, options);
    return { spec: parsed, notices: versioned.notices };
  };

  it('gives a spec without a version the newest one in standard support that the blueprint offers, by the clock given', () => {
    expect(create(withoutExtended, {}).spec.version).toBe('1.36');
    // 1.36's add-ons are not verified on the EKS-like blueprint: 1.35.
    expect(create(withExtended, {}).spec.version).toBe('1.35');
    // The default moves when a date passes: 1.35 leaves standard support on 2027-03-27, 1.37 came out on 2027-01-10.
    expect(create(withExtended, {}, at('2027-03-27T00:00:00Z')).spec.version).toBe('1.37');
    expect(create(withoutExtended, {}, at('2027-03-26T23:59:59Z')).spec.version).toBe('1.37');
  });

  it('takes a version in standard support as it is, up to the last instant of it', () => {
    expect(create(withExtended, { version: '1.34' }).spec).toEqual({ version: '1.34', upgradePolicy: 'STANDARD' });
    expect(create(withExtended, { version: '1.34' }, at('2026-12-01T23:59:59.999Z')).notices).toEqual([]);
  });

  it('refuses a version past its standard support, naming the rule and the dates', () => {
    const options = { now: NOW, allowExtendedSupport: false };
    expect(refusal(() => versionNewSpec(withExtended, { version: '1.33' }, options))).toBe('spec.version|support.standard_ended');
    expect(() => versionNewSpec(withExtended, { version: '1.33' }, options)).toThrow(/2026-07-29.*2027-07-29.*allowExtendedSupport/);
    expect(refusal(() => versionNewSpec(withExtended, { version: '1.34' }, { ...options, now: at('2026-12-02T00:00:00Z') }))).toBe(
      'spec.version|support.standard_ended',
    );
  });

  it('creates it in extended support when the request allows it and the provider has it, and says so', () => {
    const { spec, notices } = create(withExtended, { version: '1.33' }, NOW, true);
    expect(spec).toEqual({ version: '1.33', upgradePolicy: 'EXTENDED' });
    expect(notices).toEqual([expect.stringMatching(/1\.33 .*2026-07-29.*spec\.upgradePolicy is "EXTENDED"/)]);
    // A spec that says otherwise is refused, naming its field.
    expect(refusal(() => create(withExtended, { version: '1.33', upgradePolicy: 'STANDARD' }, NOW, true))).toBe(
      'spec.upgradePolicy|support.extended_required',
    );
    // Allowing it on a version in standard support changes nothing.
    expect(create(withExtended, { version: '1.35' }, NOW, true)).toEqual({
      spec: { version: '1.35', upgradePolicy: 'STANDARD' },
      notices: [],
    });
  });

  it('refuses extended support where the provider creates no cluster in it, and every version past all support', () => {
    expect(refusal(() => create(withoutExtended, { version: '1.33' }, NOW, true))).toBe('allowExtendedSupport|support.no_extended');
    expect(refusal(() => create(withExtended, { version: '1.31' }, NOW, true))).toBe('spec.version|support.ended');
    expect(refusal(() => create(withExtended, { version: '1.37' }))).toBe('spec.version|support.not_released');
    expect(refusal(() => create(withExtended, { version: '1.36' }))).toBe('spec.version|support.not_offered');
  });

  it('leaves a blueprint without a calendar alone, but refuses to allow extended support on it', () => {
    const plain: Blueprint<Spec> = { ...withExtended, versions: undefined };
    expect(versionNewSpec(plain, { version: '1.31' }, { now: NOW, allowExtendedSupport: false })).toEqual({
      spec: { version: '1.31' },
      notices: [],
    });
    expect(refusal(() => versionNewSpec(plain, {}, { now: NOW, allowExtendedSupport: true }))).toBe(
      'allowExtendedSupport|support.no_calendar',
    );
  });

  it('does not let a change take a cluster out of extended support while its version is in it', () => {
    const from = { version: '1.33', upgradePolicy: 'EXTENDED' };
    expect(supportChangeIssues(withExtended, from, { ...from, upgradePolicy: 'STANDARD' }, NOW).map((i) => i.rule)).toEqual([
      'support.extended_locked',
    ]);
    expect(supportChangeIssues(withExtended, from, { version: '1.34', upgradePolicy: 'STANDARD' }, NOW)).toEqual([]);
    expect(supportChangeIssues(withExtended, from, { ...from, version: '1.34' }, NOW)).toEqual([]);
  });
});

describe("a cluster's support status", () => {
  it('is that of the version it runs, with its dates, the next step and the newest version', () => {
    const support = clusterSupport(
      withExtended,
      { spec: { version: '1.34', upgradePolicy: 'EXTENDED' }, appliedSpec: { version: '1.33', upgradePolicy: 'EXTENDED' } },
      NOW,
    );
    expect(support).toEqual({
      version: '1.33',
      targetVersion: '1.34',
      status: 'extended',
      endOfStandardSupport: '2026-07-29',
      endOfExtendedSupport: '2027-07-29',
      daysToEndOfStandardSupport: -125,
      extendedSupport: true,
      nextVersion: '1.34',
      newestInStandardSupport: '1.35',
      calendar: { source: 'test', checked: '2026-11-30' },
    });
    expect(clusterSupport(withoutExtended, { spec: { version: '1.34' }, appliedSpec: null }, NOW)).toMatchObject({
      version: '1.34',
      targetVersion: null,
      status: 'standard',
      daysToEndOfStandardSupport: 1,
      extendedSupport: null,
      nextVersion: '1.35',
    });
    expect(clusterSupport(withoutExtended, { spec: { version: '1.99' }, appliedSpec: null }, NOW)).toBeNull();
    expect(clusterSupport(undefined, { spec: { version: '1.34' }, appliedSpec: null }, NOW)).toBeNull();
  });
});
