import type { Blueprint } from '../blueprints/blueprint.js';
import { InputError } from '../errors.js';
import type { BlueprintLookup } from '../ports.js';

/** The blueprint named, or an InputError that names `field` and the blueprints there are. */
export function knownBlueprint(blueprints: BlueprintLookup, name: string, field: string): Blueprint<any> {
  const blueprint = blueprints.get(name);
  if (blueprint) return blueprint;
  const known = blueprints
    .list()
    .map((b) => b.name)
    .join(', ');
  const message = `is not a known blueprint (known: ${known || 'none'})`;
  throw new InputError(`${field}: ${message}`, [{ field, rule: 'enum', message }]);
}
