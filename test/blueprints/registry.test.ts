import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { z } from 'zod';
import type { Blueprint } from '../../src/blueprints/blueprint.js';
import { BlueprintRegistry, loadBlueprintModules } from '../../src/blueprints/registry.js';
import localFiles from './local-files.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const ctx = { dataDir: '/tmp/clusterd-registry-test' };

const blueprint = (name: string): Blueprint => ({
  name,
  description: `test blueprint ${name}`,
  specSchema: z.object({}),
  program: () => async () => undefined,
});

describe('BlueprintRegistry', () => {
  it('registers blueprints and lists them by name', () => {
    const registry = new BlueprintRegistry();
    registry.register(blueprint('zeta'));
    registry.register(blueprint('alpha-1'));
    assert.deepEqual(
      registry.list().map((b) => b.name),
      ['alpha-1', 'zeta'],
    );
    assert.equal(registry.get('zeta')?.description, 'test blueprint zeta');
    assert.equal(registry.get('nope'), undefined);
  });

  it('rejects a duplicate name', () => {
    const registry = new BlueprintRegistry();
    registry.register(blueprint('eks'));
    assert.throws(() => registry.register(blueprint('eks')), { message: 'blueprint "eks" is already registered' });
  });

  it('rejects an invalid name', () => {
    const registry = new BlueprintRegistry();
    assert.throws(() => registry.register(blueprint('Bad_Name')), {
      message: 'invalid blueprint name "Bad_Name": must be lowercase letters, digits and -',
    });
  });
});

describe('loadBlueprintModules', () => {
  it('registers the default export of a module given relative to the working directory', async () => {
    const registry = new BlueprintRegistry();
    const relative = path.relative(process.cwd(), path.join(ROOT, 'test/blueprints/local-files.ts'));
    await loadBlueprintModules(registry, [relative], ctx);
    assert.deepEqual(
      registry.list().map((b) => b.name),
      ['local-files'],
    );
  });

  it('names the path of a module that does not exist', async () => {
    await assert.rejects(loadBlueprintModules(new BlueprintRegistry(), ['./no/such/blueprint.ts'], ctx), (err: Error) => {
      assert.match(err.message, /^blueprint module \.\/no\/such\/blueprint\.ts: cannot be imported: /);
      return true;
    });
  });

  it('names the path of a module without a default export', async () => {
    const file = path.join(ROOT, 'src/errors.ts');
    await assert.rejects(loadBlueprintModules(new BlueprintRegistry(), [file], ctx), {
      message: `blueprint module ${file}: has no default export`,
    });
  });

  it('names the path when a module brings a name that is already taken', async () => {
    const registry = new BlueprintRegistry();
    registry.register(blueprint('local-files'));
    const file = path.join(ROOT, 'test/blueprints/local-files.ts');
    await assert.rejects(loadBlueprintModules(registry, [file], ctx), {
      message: `blueprint module ${file}: blueprint "local-files" is already registered`,
    });
  });
});

describe('the local-files blueprint spec', () => {
  const { specSchema } = localFiles(ctx);
  const issues = (spec: unknown) => {
    const r = specSchema.safeParse(spec);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a full spec', () => {
    assert.deepEqual(
      issues({
        version: '1.30',
        nodePools: [{ name: 'a', size: 0 }],
        tags: { env: 'dev' },
        delayMs: 10,
        failOn: 'delete',
        secretValue: 's',
      }),
      [],
    );
  });

  it('explains each broken rule', () => {
    assert.deepEqual(
      issues({
        version: '2.1',
        nodePools: [
          { name: 'a', size: 101 },
          { name: 'a', size: 1.5 },
        ],
        delayMs: -1,
        failOn: 'read',
        colour: 'red',
      }),
      [
        'version: must look like 1.30',
        'nodePools.0.size: must be at most 100',
        'nodePools.1.size: must be an integer',
        'delayMs: must be at least 0',
        'failOn: must be one of create, update, delete',
        ': Unrecognized key: "colour"',
      ],
    );
    assert.deepEqual(issues({ version: '1.30', nodePools: [] }), ['nodePools: must have at least 1 node pool']);
    assert.deepEqual(
      issues({
        version: '1.30',
        nodePools: [
          { name: 'a', size: 1 },
          { name: 'a', size: 2 },
        ],
      }),
      ['nodePools: node pool names must be unique'],
    );
  });
});
