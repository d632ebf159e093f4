import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';
import { builtInBlueprints, programFor, OUTPUT_NAMES, verifiedAddonPins } from '../../programs/index.js';
import { EKS_CALENDAR, GKE_CALENDAR } from '../../programs/version-calendars.js';
import { BlueprintRegistry } from '../../src/blueprints/registry.js';
import { writeOnlyFields } from '../../src/blueprints/write-only.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Provider SDK modules a fresh process has loaded after importing `module`. */
async function providerModulesLoadedBy(module: string): Promise<string[]> {
  const code = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(path.join(root, module))});
    const cache = createRequire(${JSON.stringify(path.join(root, 'package.json'))}).cache;
    const names = Object.keys(cache).map((k) => /node_modules\\/(@pulumi\\/(?:aws|gcp|eks|kubernetes))\\//.exec(k)?.[1]).filter(Boolean);
    console.log(JSON.stringify([...new Set(names)].sort()));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root });
  return JSON.parse(stdout) as string[];
}

/** Paths of JSON Schema properties that have no description. */
function undescribed(schema: any, at = 'spec'): string[] {
  const missing: string[] = [];
  const visit = (node: any, where: string) => {
    if (!node || typeof node !== 'object') return;
    for (const [key, prop] of Object.entries<any>(node.properties ?? {})) {
      if (!prop.description) missing.push(`${where}.${key}`);
      visit(prop, `${where}.${key}`);
    }
    for (const variant of node.anyOf ?? node.oneOf ?? []) visit(variant, where);
    if (node.items) visit(node.items, `${where}[]`);
  };
  visit(schema, at);
  return missing;
}

describe('the built-in blueprints', () => {
  it('are eks and gke, each with rules, drift noise and a program', () => {
    assert.deepEqual(
      builtInBlueprints.map((b) => b.name),
      ['eks', 'gke'],
    );
    for (const b of builtInBlueprints) {
      assert.equal(typeof b.description, 'string');
      assert.equal(typeof b.validateCreate, 'function');
      assert.equal(typeof b.validateChange, 'function');
      assert.equal(typeof b.validateDestroy, 'function');
      assert.equal(typeof b.program, 'function');
      assert.ok(b.driftNoise!.length > 0);
    }
  });

  it("read their versions from the providers' calendars: EKS offers only versions with verified add-on pins and has extended support, GKE has none for new clusters", () => {
    const [eks, gke] = builtInBlueprints;
    assert.equal(eks!.versions!.calendar, EKS_CALENDAR);
    assert.equal(eks!.versions!.field, 'version');
    assert.equal(eks!.versions!.offered, verifiedAddonPins);
    assert.deepEqual(eks!.versions!.extendedSupport!.defaults, { upgradePolicy: 'EXTENDED' });
    assert.equal(eks!.versions!.extendedSupport!.field, 'upgradePolicy');
    assert.equal(eks!.versions!.extendedSupport!.isOn({ upgradePolicy: 'EXTENDED' }), true);
    assert.equal(eks!.versions!.extendedSupport!.isOn({ upgradePolicy: 'STANDARD' }), false);
    assert.deepEqual(gke!.versions, { calendar: GKE_CALENDAR, field: 'version' });
  });

  it('register in the service registry under their names', () => {
    const registry = new BlueprintRegistry();
    for (const b of builtInBlueprints) registry.register(b);
    assert.deepEqual(
      registry.list().map((b) => b.name),
      ['eks', 'gke'],
    );
  });

  it('describe every spec field in their JSON Schema (GET /v1/blueprints and OpenAPI)', () => {
    for (const b of builtInBlueprints) {
      const schema = z.toJSONSchema(b.specSchema, { io: 'input', unrepresentable: 'any' });
      assert.deepEqual(undescribed(schema), [], b.name);
      assert.deepEqual(writeOnlyFields(b), [], b.name);
    }
  });

  it('ignore only provider-owned noise in drift checks', () => {
    const noise = Object.fromEntries(
      builtInBlueprints.map((b) => [b.name, b.driftNoise!.map((r) => `${r.type}:${r.properties.join(',')}`)]),
    );
    assert.deepEqual(noise, {
      eks: ['aws:eks/cluster:Cluster:platformVersion'],
      gke: [
        'gcp:container/cluster:Cluster:masterVersion,nodeVersion,nodePools,nodeConfig',
        'gcp:container/nodePool:NodePool:nodeCount,version,instanceGroupUrls,managedInstanceGroupUrls',
      ],
    });
  });

  it('name their outputs endpoint, certificateAuthority, clusterId, oidcIssuer, nodePools and kubeconfig', () => {
    assert.deepEqual([...OUTPUT_NAMES], ['endpoint', 'certificateAuthority', 'clusterId', 'oidcIssuer', 'nodePools', 'kubeconfig']);
  });
});

describe('programFor', () => {
  it('refuses a blueprint it does not know', () => {
    assert.throws(() => programFor('aks' as never, {} as never, { clusterName: 'x', team: 't', labels: {} }), {
      message: 'no built-in blueprint named "aks"',
    });
  });

  it('builds a program without loading any provider SDK until the program runs', () => {
    const program = programFor('eks', {} as never, { clusterName: 'x', team: 't', labels: {} });
    assert.equal(typeof program, 'function');
  });
});

describe('importing programs/index.ts (what the API process does)', () => {
  it('loads no provider SDK: @pulumi/aws, gcp, eks and kubernetes stay out of the API process', async () => {
    assert.deepEqual(await providerModulesLoadedBy('programs/index.ts'), []);
  });

  it('is checked by a probe that does see them when a component module is imported', async () => {
    assert.deepEqual(await providerModulesLoadedBy('programs/eks.ts'), ['@pulumi/aws', '@pulumi/eks', '@pulumi/kubernetes']);
  });
});
