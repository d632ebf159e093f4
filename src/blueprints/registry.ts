import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Blueprint, BlueprintModuleContext } from './blueprint.js';
import { enableTypeScriptModules } from './typescript-modules.js';

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The blueprints this process knows, by name. Built once at start; read-only afterwards by convention. */
export class BlueprintRegistry {
  readonly #byName = new Map<string, Blueprint<any>>();

  /** Adds a blueprint; throws if its name is invalid or already taken. */
  register(blueprint: Blueprint<any>): void {
    if (typeof blueprint.name !== 'string' || !NAME.test(blueprint.name)) {
      throw new Error(`invalid blueprint name ${JSON.stringify(blueprint.name)}: must be lowercase letters, digits and -`);
    }
    if (this.#byName.has(blueprint.name)) throw new Error(`blueprint "${blueprint.name}" is already registered`);
    this.#byName.set(blueprint.name, blueprint);
  }

  get(name: string): Blueprint<any> | undefined {
    return this.#byName.get(name);
  }

  /** Every registered blueprint, sorted by name. */
  list(): Blueprint<any>[] {
    return [...this.#byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}

/**
 * Imports each module (a path absolute or relative to the working directory) and registers its
 * default export, which follows `BlueprintModuleExport`. Throws on the first bad module with an error
 * that names its path and what is wrong.
 */
export async function loadBlueprintModules(registry: BlueprintRegistry, paths: string[], ctx: BlueprintModuleContext): Promise<void> {
  await enableTypeScriptModules(paths);
  for (const modulePath of paths) {
    const absolute = path.resolve(modulePath);
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(absolute).href)) as { default?: unknown };
    } catch (err) {
      throw new Error(`blueprint module ${modulePath}: cannot be imported: ${(err as Error).message}`, { cause: err });
    }
    const exported = typeof mod.default === 'function' ? (mod.default as (c: BlueprintModuleContext) => unknown)(ctx) : mod.default;
    if (exported === undefined) throw new Error(`blueprint module ${modulePath}: has no default export`);
    const blueprints = Array.isArray(exported) ? exported : [exported];
    blueprints.forEach((bp, i) => {
      const where = Array.isArray(exported) ? `${modulePath} (item ${i})` : modulePath;
      const problem = blueprintProblem(bp);
      if (problem) throw new Error(`blueprint module ${where}: ${problem}`);
      try {
        registry.register(bp as Blueprint<any>);
      } catch (err) {
        throw new Error(`blueprint module ${where}: ${(err as Error).message}`, { cause: err });
      }
    });
  }
}

/** Why `value` is not a Blueprint, or null when it looks like one. */
function blueprintProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null)
    return 'default export must be a blueprint, an array of blueprints or a function returning them';
  const bp = value as Partial<Blueprint<any>>;
  if (typeof bp.name !== 'string') return 'blueprint has no name';
  if (typeof bp.description !== 'string') return `blueprint "${bp.name}" has no description`;
  if (typeof bp.specSchema?.safeParse !== 'function') return `blueprint "${bp.name}" has no zod specSchema`;
  if (typeof bp.program !== 'function') return `blueprint "${bp.name}" has no program function`;
  return null;
}
