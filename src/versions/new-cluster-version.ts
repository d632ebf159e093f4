/**
 * The version rules of a new cluster, by its blueprint's support calendar at `now` (the database's
 * clock): a spec without a version gets the newest one in standard support; a version past its
 * standard support is refused unless the request asks for extended support and the provider has
 * it (the spec is then set to ask for it too); a version past all support is refused.
 */
import type { Blueprint } from '../blueprints/blueprint.js';
import { newestInStandardSupport, supportOf } from '../domain/version-support.js';
import { InputError, type FieldIssue } from '../errors.js';
import { describeIssues } from '../lifecycle/zod-issues.js';

type Spec = Record<string, unknown>;

export interface NewClusterOptions {
  /** ms since the epoch, by the database's clock. */
  now: number;
  /** The request's `allowExtendedSupport`. */
  allowExtendedSupport: boolean;
}

/** A spec to parse, and what the service decided for the caller (said in the answer). */
export interface VersionedSpec {
  spec: Spec;
  notices: string[];
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function refuse(issue: FieldIssue): never {
  throw new InputError(`spec refused: ${describeIssues([issue])}`, [issue]);
}

/**
 * The request's spec with the version rules applied, before the blueprint's schema parses it. A
 * version the calendar does not list is left to the schema, which refuses what it does not know.
 */
export function versionNewSpec(blueprint: Blueprint<any>, raw: Spec, options: NewClusterOptions): VersionedSpec {
  const versions = blueprint.versions;
  if (!versions) {
    if (options.allowExtendedSupport)
      refuse({
        field: 'allowExtendedSupport',
        rule: 'support.no_calendar',
        message: `blueprint "${blueprint.name}" has no support calendar: there is no extended support to allow`,
      });
    return { spec: raw, notices: [] };
  }
  const field = `spec.${versions.field}`;
  const offered = versions.offered ?? (() => true);
  let spec = raw;
  if (spec[versions.field] === undefined) {
    const newest = newestInStandardSupport(versions.calendar, options.now, offered);
    if (!newest)
      refuse({
        field,
        rule: 'support.none_standard',
        message: `no version is in standard support on ${day(options.now)} by the calendar of "${blueprint.name}": name one`,
      });
    spec = { ...spec, [versions.field]: newest };
  }
  const version = spec[versions.field];
  const support = typeof version === 'string' ? supportOf(versions.calendar, version, options.now) : null;
  if (!support) return { spec, notices: [] };
  const entry = versions.calendar.find((e) => e.version === version)!;
  const newest = newestInStandardSupport(versions.calendar, options.now, offered);
  const instead = newest ? `; ${newest} is the newest in standard support` : '';
  if (Date.parse(`${entry.released}T00:00:00Z`) > options.now)
    refuse({
      field,
      rule: 'support.not_released',
      message: `${version} is not available for new clusters before ${entry.released}${instead}`,
    });
  if (support.status === 'unsupported')
    refuse({
      field,
      rule: 'support.ended',
      message: `${version} is past the end of its support (standard support ended ${support.endOfStandardSupport}, extended support ${support.endOfExtendedSupport})${instead}`,
    });
  if (!offered(support.version))
    refuse({
      field,
      rule: 'support.not_offered',
      message: `${version} is not offered for new clusters by blueprint "${blueprint.name}" (its add-on versions are not verified yet)${instead}`,
    });
  if (support.status === 'standard') return { spec, notices: [] };

  const ended = `${version} is past the end of its standard support (${support.endOfStandardSupport}); its extended support ends ${support.endOfExtendedSupport}`;
  const extended = versions.extendedSupport;
  if (!options.allowExtendedSupport)
    refuse({
      field,
      rule: 'support.standard_ended',
      message: `${ended}${instead}${extended ? ', or set allowExtendedSupport to create it in extended support, at extra cost' : ''}`,
    });
  if (!extended)
    refuse({
      field: 'allowExtendedSupport',
      rule: 'support.no_extended',
      message: `blueprint "${blueprint.name}" creates no cluster in extended support: ${ended}${instead}`,
    });
  const asked = Object.entries(extended.defaults)
    .map(([k, v]) => `spec.${k} is ${JSON.stringify(v)}`)
    .join(', ');
  return {
    spec: { ...extended.defaults, ...spec },
    notices: [`${ended}: created in extended support (${asked}), which the provider charges extra for`],
  };
}

/** After the schema parsed it: the spec must itself ask for the extended support it was allowed (a caller may have said otherwise). */
export function checkNewSpec(blueprint: Blueprint<any>, spec: Spec, options: NewClusterOptions): void {
  const versions = blueprint.versions;
  const extended = versions?.extendedSupport;
  const version = versions && spec[versions.field];
  const support = versions && typeof version === 'string' ? supportOf(versions.calendar, version, options.now) : null;
  if (extended && support?.status === 'extended' && !extended.isOn(spec))
    refuse({
      field: `spec.${extended.field}`,
      rule: 'support.extended_required',
      message: `must ask for extended support (or be left out): ${version} is past the end of its standard support (${support.endOfStandardSupport})`,
    });
  const issues = blueprint.validateCreate?.(spec) ?? [];
  if (issues.length) throw new InputError(`spec refused: ${describeIssues(issues)}`, issues);
}

/**
 * A change may not take a cluster in extended support out of it (EKS: "You cannot disable extended
 * support once your cluster has entered it"): it has to be upgraded into standard support first.
 */
export function supportChangeIssues(blueprint: Blueprint<any>, from: Spec, to: Spec, now: number): FieldIssue[] {
  const versions = blueprint.versions;
  const extended = versions?.extendedSupport;
  if (!versions || !extended || !extended.isOn(from) || extended.isOn(to)) return [];
  const version = to[versions.field];
  const support = typeof version === 'string' ? supportOf(versions.calendar, version, now) : null;
  if (support?.status !== 'extended') return [];
  return [
    {
      field: `spec.${extended.field}`,
      rule: 'support.extended_locked',
      message: `cannot leave extended support while ${version} is in it (its standard support ended ${support.endOfStandardSupport}): upgrade to a version in standard support first`,
    },
  ];
}
