/**
 * Lifecycle rules of the built-in blueprints: what a change from one desired spec to the next may
 * do (upgrades, replacements, add-on moves: those are in addon-rules.ts) and when a destroy is
 * allowed. Pure: the API process runs them before it records anything.
 *
 * Field paths follow the service's FieldIssue convention (`spec.nodePools.1.version`, the same
 * dotted form zod issues get), so that every 400 answer names fields the same way.
 */
import type { RolloutStep } from '../src/domain/rollout.js';
import type { FieldIssue } from '../src/errors.js';
import { addonChanges } from './addon-rules.js';
import type { AddonsSpec } from './common-spec.js';
import { minorOf, versionOf } from './versions.js';

/** What the rules need to know about any built-in spec. */
export interface RuledSpec {
  version: string;
  nodePools: Array<{ name: string; version?: string }>;
  addons: AddonsSpec;
  deletionProtection: boolean;
}

/** A spec property whose change makes the provider replace a resource. */
export interface ReplacementField<T> {
  /** Path under the spec (`region`) or under a node pool (`instanceType`). */
  path: string;
  /** The value compared; undefined when the field does not apply to this spec (then it is not compared). */
  get(value: T): unknown;
}

/** Fields that force a replacement: of the cluster, or of one node pool. */
export interface ReplacementRules<S extends RuledSpec> {
  cluster: ReplacementField<S>[];
  pool: ReplacementField<S['nodePools'][number]>[];
}

const ALLOW = 'pass "allowReplace": true to accept';

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const show = (v: unknown) => (v === undefined ? 'unset' : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** Every rule broken by the change `from` → `to`; empty when it may go ahead. */
export function validateChange<S extends RuledSpec>(
  from: S,
  to: S,
  options: { allowReplace: boolean },
  replacement: ReplacementRules<S>,
): FieldIssue[] {
  return [
    ...controlPlaneVersion(from, to),
    ...nodePoolVersions(from, to),
    ...(options.allowReplace ? [] : replacements(from, to, replacement)),
    ...addonChanges(from.addons, to.addons),
  ];
}

/**
 * The next step towards the control plane version `version`: node pools pinned behind the control
 * plane catch up with it first, then the control plane moves one minor version (pools that follow
 * it move in the same run, after it). Null once the spec is there.
 */
export function nextUpgradeStep(spec: RuledSpec, version: string): { step: RolloutStep | null } | { issues: FieldIssue[] } {
  if (minorOf(version) < minorOf(spec.version)) {
    return {
      issues: [
        {
          field: 'change.upgrade.version',
          rule: 'version_downgrade',
          message: `cannot go from ${spec.version} down to ${version}: downgrades are not supported`,
        },
      ],
    };
  }
  if (spec.nodePools.some((p) => p.version !== undefined && p.version !== spec.version)) {
    const nodePools = spec.nodePools.map((p) => (p.version === undefined ? p : { ...p, version: spec.version }));
    return { step: { title: `node pools to ${spec.version}`, patch: { nodePools } } };
  }
  if (spec.version === version) return { step: null };
  const next = versionOf(minorOf(spec.version) + 1);
  return { step: { title: `control plane to ${next}`, patch: { version: next } } };
}

/** A destroy waits until the spec turns deletion protection off. */
export function validateDestroy(spec: RuledSpec): FieldIssue[] {
  if (!spec.deletionProtection) return [];
  return [
    {
      field: 'spec.deletionProtection',
      rule: 'deletion_protection',
      message: 'is on: turn it off first (PATCH {"spec": {"deletionProtection": false}}), then destroy',
    },
  ];
}

/** One minor version at a time, never down. */
function versionStep(from: string, to: string): { rule: string; why: string } | null {
  const step = minorOf(to) - minorOf(from);
  if (step < 0) return { rule: 'version_downgrade', why: `cannot go from ${from} down to ${to}: downgrades are not supported` };
  if (step > 1)
    return {
      rule: 'version_skip',
      why: `cannot go from ${from} to ${to} in one change: upgrade one minor version at a time (${versionOf(minorOf(from) + 1)} next)`,
    };
  return null;
}

function controlPlaneVersion(from: RuledSpec, to: RuledSpec): FieldIssue[] {
  const problem = versionStep(from.version, to.version);
  return problem ? [{ field: 'spec.version', rule: problem.rule, message: problem.why }] : [];
}

/**
 * Pools that exist before and after: their effective version (their own, or the control plane's)
 * moves by the same rules. A pool that follows the control plane moves with it, and is upgraded
 * after it in the same run (the pool depends on the cluster), so only explicit versions can break
 * these rules on their own.
 */
function nodePoolVersions(from: RuledSpec, to: RuledSpec): FieldIssue[] {
  const before = new Map(from.nodePools.map((p) => [p.name, p]));
  return to.nodePools.flatMap((pool, i): FieldIssue[] => {
    const old = before.get(pool.name);
    if (!old || (old.version === undefined && pool.version === undefined)) return [];
    const problem = versionStep(old.version ?? from.version, pool.version ?? to.version);
    return problem
      ? [{ field: `spec.nodePools.${i}.version`, rule: problem.rule, message: `node pool "${pool.name}" ${problem.why}` }]
      : [];
  });
}

function replacements<S extends RuledSpec>(from: S, to: S, rules: ReplacementRules<S>): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const field of rules.cluster) {
    const [a, b] = [field.get(from), field.get(to)];
    // A field that applies on one side only changes with another field, which reports it.
    if (a !== undefined && b !== undefined && !same(a, b)) {
      issues.push({
        field: `spec.${field.path}`,
        rule: 'replacement_requires_allow_replace',
        message: `changing ${field.path} (${show(a)} → ${show(b)}) replaces the whole cluster, its node pools and everything running on it; ${ALLOW}`,
      });
    }
  }
  const after = new Map(to.nodePools.map((p, i) => [p.name, { pool: p, index: i }]));
  from.nodePools.forEach((old) => {
    const next = after.get(old.name);
    if (!next) {
      issues.push({
        field: 'spec.nodePools',
        rule: 'replacement_requires_allow_replace',
        message: `removes node pool "${old.name}" and its nodes; ${ALLOW}`,
      });
      return;
    }
    for (const field of rules.pool) {
      const [a, b] = [field.get(old), field.get(next.pool)];
      if (!same(a, b)) {
        issues.push({
          field: `spec.nodePools.${next.index}.${field.path}`,
          rule: 'replacement_requires_allow_replace',
          message: `changing ${field.path} of node pool "${old.name}" (${show(a)} → ${show(b)}) replaces the pool: its nodes are deleted and new ones created; ${ALLOW}`,
        });
      }
    }
  });
  return issues;
}
