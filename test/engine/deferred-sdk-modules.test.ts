import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/harness.js';

const run = promisify(execFile);

/** Loads the SDK in a fresh Node process, as a job child does; reports what the module cache held when. */
const PROBE = `
import { createRequire } from 'node:module';
import { deferSerializerModules } from './src/engine/deferred-sdk-modules.ts';
const cache = createRequire(import.meta.url).cache;
// A stand-in is one entry under the module's own path; the real Arborist is dozens of files.
const held = () => ({
  typescript: Object.keys(cache).some((f) => f.includes('/node_modules/typescript/')),
  arborist: Object.keys(cache).filter((f) => f.includes('/node_modules/@npmcli/arborist/')).length > 1,
});
const deferred = process.env.DEFER ? deferSerializerModules().length : 0;
const pulumi = await import('@pulumi/pulumi');
const afterLoad = held();
const serialized = await pulumi.runtime.serializeFunction(() => 6 * 7);
const afterSerialize = held();
const paths = await pulumi.runtime.computeCodePaths({ extraIncludePackages: ['zod'] });
console.log(JSON.stringify({ deferred, afterLoad, afterSerialize, afterCodePaths: held(),
  serializes: serialized.text.includes('6 * 7'), codePaths: [...paths.keys()].some((p) => p.includes('node_modules/zod')) }));
`;

async function probe(defer: boolean) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROBE], {
    cwd: ROOT,
    env: { ...process.env, DEFER: defer ? '1' : '' },
  });
  return JSON.parse(stdout.trim().split('\n').pop()!);
}

describe('deferSerializerModules', () => {
  let deferred: any, eager: any;
  beforeAll(async () => {
    [deferred, eager] = await Promise.all([probe(true), probe(false)]);
  });

  it('keeps the TypeScript compiler and Arborist out of a process that loads the SDK and serializes nothing', () => {
    expect(deferred.deferred).toBe(2);
    expect(deferred.afterLoad).toEqual({ typescript: false, arborist: false });
    expect(eager.afterLoad).toEqual({ typescript: true, arborist: true });
  });

  it('loads each on first use, and the serializer works as it does without them deferred', () => {
    expect(deferred.afterSerialize).toEqual({ typescript: true, arborist: false });
    expect(deferred.afterCodePaths).toEqual({ typescript: true, arborist: true });
    expect({ serializes: deferred.serializes, codePaths: deferred.codePaths }).toEqual({ serializes: true, codePaths: true });
    expect({ serializes: eager.serializes, codePaths: eager.codePaths }).toEqual({ serializes: true, codePaths: true });
  });
});
