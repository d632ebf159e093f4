/**
 * Rules about the catalog add-ons of a spec: what a new cluster may enable, how a change may move
 * an add-on (forward through the catalog only, one minor version at a time where the project asks
 * for it, never onto a retired add-on), and which retired add-ons a cluster still runs. Pure, like
 * the other lifecycle rules.
 */
import type { RetiredPart } from '../src/blueprints/blueprint.js';
import type { FieldIssue } from '../src/errors.js';
import { ADDON_CATALOG, catalogRank, type AddonKey, type CatalogEntry } from './addon-catalog.js';
import type { AddonsSpec } from './common-spec.js';

const keysOf = (addons: AddonsSpec) => Object.keys(addons) as AddonKey[];

/** A new cluster may not enable a retired add-on. */
export function addonsOnCreate(addons: AddonsSpec): FieldIssue[] {
  return keysOf(addons).flatMap((key) => (addons[key]?.enabled ? retiredIssue(key) : []));
}

/** The retired add-ons a cluster runs, for the fleet view. `addons` may come from a spec stored by an older release. */
export function retiredAddons(addons: AddonsSpec | undefined): RetiredPart[] {
  return keysOf(addons ?? {}).flatMap((key): RetiredPart[] => {
    const retired = ADDON_CATALOG[key]?.retired;
    if (!retired || !addons?.[key]?.enabled) return [];
    const { since, reason, replacedBy } = retired;
    return [
      { field: `addons.${key}`, name: ADDON_CATALOG[key].chart, since, reason, ...(replacedBy && { replacedBy: `addons.${replacedBy}` }) },
    ];
  });
}

/** Every rule the add-ons of the change `from` → `to` break. */
export function addonChanges(from: AddonsSpec, to: AddonsSpec): FieldIssue[] {
  return keysOf(to).flatMap((key): FieldIssue[] => {
    const [a, b] = [from[key], to[key]];
    // Keeping a retired add-on, or removing it, is allowed: only turning it on is not.
    const retired = b?.enabled && !a?.enabled ? retiredIssue(key) : [];
    if (!a || !b) return retired;
    return [...retired, ...downgrade(key, a.version, b.version), ...(a.enabled && b.enabled ? skip(key, a.version, b.version) : [])];
  });
}

function retiredIssue(key: AddonKey): FieldIssue[] {
  const { chart, retired } = ADDON_CATALOG[key];
  if (!retired) return [];
  const instead = retired.replacedBy ? `; use ${retired.replacedBy} instead` : '';
  return [
    {
      field: `spec.addons.${key}.enabled`,
      rule: 'addon_retired',
      message: `${chart} is retired since ${retired.since} (${retired.reason})${instead}`,
    },
  ];
}

/** Charts (and cert-manager's CRDs) do not downgrade. */
function downgrade(key: AddonKey, from: string, to: string): FieldIssue[] {
  const entry = ADDON_CATALOG[key];
  if (catalogRank(entry, to) >= catalogRank(entry, from)) return [];
  return [
    {
      field: `spec.addons.${key}.version`,
      rule: 'addon_downgrade',
      message: `cannot go from ${from} back to ${to}: add-ons move forward through the catalog only`,
    },
  ];
}

/** An installed add-on whose project supports no skipped minor versions moves one at a time. */
function skip(key: AddonKey, from: string, to: string): FieldIssue[] {
  const entry = ADDON_CATALOG[key];
  if (!entry.oneMinorAtATime || minorNumber(to) - minorNumber(from) <= 1) return [];
  const next = newestOfMinor(entry, minorNumber(from) + 1);
  return [
    {
      field: `spec.addons.${key}.version`,
      rule: 'addon_skip',
      message: `cannot go from ${from} to ${to} in one change: ${entry.chart} upgrades one minor version at a time${next ? ` (${next} next)` : ''}`,
    },
  ];
}

/** The minor number of a `v1.21.1` or `3.13.1` version (21, 13). */
function minorNumber(version: string): number {
  return Number(/^v?\d+\.(\d+)/.exec(version)?.[1] ?? NaN);
}

function newestOfMinor(entry: CatalogEntry, minor: number): string | undefined {
  return entry.versions.filter((v) => minorNumber(v) === minor).at(-1);
}
