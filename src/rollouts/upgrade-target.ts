import type { Blueprint } from '../blueprints/blueprint.js';
import type { RolloutChange } from '../domain/rollout.js';
import { newestInStandardSupport } from '../domain/version-support.js';
import { InputError } from '../errors.js';
import { NEWEST_STANDARD } from './requests.js';

/**
 * The change with `newest-standard` resolved by the blueprint's calendar at `now`, pinned for the
 * rollout's life (a date passing mid-rollout does not move its target); other changes as they are.
 */
export function resolveTarget(change: RolloutChange, blueprint: Blueprint<any>, now: number): RolloutChange {
  if (!('upgrade' in change) || change.upgrade.version !== NEWEST_STANDARD) return change;
  const versions = blueprint.versions;
  const version = versions && newestInStandardSupport(versions.calendar, now, versions.offered);
  if (!version) {
    const message = versions
      ? `no version of blueprint "${blueprint.name}" is in standard support now`
      : `blueprint "${blueprint.name}" has no support calendar: name the version`;
    throw new InputError(`change.upgrade.version: ${message}`, [{ field: 'change.upgrade.version', rule: 'support.no_target', message }]);
  }
  return { upgrade: { version, requested: NEWEST_STANDARD } };
}
