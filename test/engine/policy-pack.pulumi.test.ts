/**
 * A policy pack (test/policy-packs/local-files-guard) on runs of the local-files blueprint, through
 * the Automation API and the real CLI: a file:// backend and the passphrase provider in a temp
 * directory, both plugin launchers on the CLI's PATH (the CLI built from source has neither plugin).
 * Every test runs on a stack of its own, so that any one of them runs alone. They run one after the
 * other: inline programs in one process share the SDK's runtime state, so two at once fail at random
 * ("Resource monitor is terminating"), which is why the service runs each operation in a process of its own.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommandError, LocalWorkspace, type EngineEvent, type PulumiCommand, type Stack } from '@pulumi/pulumi/automation/index.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { writeDynamicProviderLauncher } from '../../src/engine/dynamic-provider-launcher.js';
import { PolicyFindings } from '../../src/engine/policy-findings.js';
import { writePolicyAnalyzerLauncher } from '../../src/engine/policy-analyzer-launcher.js';
import { commandFromPath } from '../../src/engine/pulumi-cli.js';
import { buildPulumiEnv, ensureFileBackend } from '../../src/engine/pulumi-env.js';
import localFiles, { type LocalFilesSpec } from '../blueprints/local-files.js';

const PACK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../policy-packs/local-files-guard');
const PASSPHRASE = 'policy-test-passphrase';
const NODE_POOL = 'pulumi-nodejs:dynamic/local-files:NodePool';
const CLUSTER = 'pulumi-nodejs:dynamic/local-files:Cluster';

/** What a run did: the error it failed with, if any, its policy findings and the summary of its changes. */
interface Outcome {
  error: unknown;
  findings: PolicyFindings;
  summary: { result: string; resourceChanges: Record<string, number>; PolicyPacks: Record<string, string> } | undefined;
}

describe('a policy pack on runs of the local-files blueprint', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let pulumiCommand: PulumiCommand;
  let blueprint: ReturnType<typeof localFiles>;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'clusterd-policy-'));
    const backendUrl = `file://${path.join(dataDir, 'state')}`;
    await ensureFileBackend(backendUrl);
    const passphraseFile = path.join(dataDir, 'given-passphrase');
    writeFileSync(passphraseFile, PASSPHRASE, { mode: 0o600 });
    const launcherDir = path.join(dataDir, 'bin');
    await writeDynamicProviderLauncher(launcherDir);
    await writePolicyAnalyzerLauncher(launcherDir);
    const cliDir = inject('services').pulumiDir;
    env = buildPulumiEnv({ dataDir, backendUrl, secretsProvider: 'passphrase', passphraseFile, cliDir, launcherDir });
    pulumiCommand = await commandFromPath(env.PATH!, dataDir);
    blueprint = localFiles({ dataDir });
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  /** A stack no other test uses, running the blueprint's program for `spec`. */
  async function freshStack(stem: string, spec: LocalFilesSpec) {
    const name = `${stem}-${randomUUID().slice(0, 8)}`;
    const workDir = path.join(dataDir, 'workspaces', name);
    mkdirSync(workDir, { recursive: true });
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: name, projectName: 'clusterd', program: blueprint.program(spec, { clusterName: name, team: 'alpha', labels: {} }) },
      { workDir, envVars: env, secretsProvider: 'passphrase', projectSettings: { name: 'clusterd', runtime: 'nodejs' }, pulumiCommand },
    );
    const clusterDir = path.join(dataDir, 'local-clusters', name);
    return {
      stack,
      urnOf: (type: string, resource: string) => `urn:pulumi:${name}::clusterd::clusterd:local-files:Cluster$${type}::${resource}`,
      clusterFile: path.join(clusterDir, 'cluster.json'),
      poolFile: (pool: string) => path.join(clusterDir, 'pools', `${pool}.json`),
    };
  }

  /** Runs `op` with the pack (refresh and destroy take none), collecting its events. */
  async function run(stack: Stack, op: 'preview' | 'up' | 'refresh' | 'previewRefresh' | 'destroy'): Promise<Outcome> {
    const events: EngineEvent[] = [];
    const onEvent = (e: EngineEvent) => events.push(e);
    let error: unknown = null;
    try {
      if (op === 'preview' || op === 'up') await stack[op]({ policyPacks: [PACK], onEvent });
      else await stack[op]({ onEvent });
    } catch (err) {
      error = err;
    }
    const findings = new PolicyFindings();
    events.forEach((e) => findings.observe(e));
    // The SDK's type names the packs `policyPacks`; the CLI writes `PolicyPacks`.
    const summary = events.find((e) => e.summaryEvent)?.summaryEvent as unknown as Outcome['summary'];
    return { error, findings, summary };
  }

  // The summary names every pack that ran, by name, kind and path.
  const ranThePack = { [`local-files-guard|local|${PACK}`]: '0.1.0' };

  it('fails the preview and the update on a mandatory violation, which names pack, policy, resource and message', async () => {
    const s = await freshStack('mandatory', { version: '1.30', nodePools: [{ name: 'big', size: 60 }], tags: { owner: 'platform' } });
    const violation = {
      pack: 'local-files-guard',
      policy: 'pool-size-limit',
      resource: s.urnOf(NODE_POOL, 'pool-big'),
      message: 'A node pool has at most `maxSize` nodes.\nnode pool big has 60 nodes; at most 50 are allowed',
      enforcement: 'mandatory',
    };

    const preview = await run(s.stack, 'preview');
    expect(preview.error).toBeInstanceOf(CommandError);
    expect((preview.error as Error).message).toMatch(/\[mandatory\]\s+pool-size-limit/);
    expect((preview.error as Error).message).toContain('error: preview failed');
    expect(preview.findings.all()).toEqual([violation]);
    expect(preview.summary).toMatchObject({ result: 'failed', PolicyPacks: ranThePack });
    expect(existsSync(s.clusterFile)).toBe(false);

    const up = await run(s.stack, 'up');
    expect(up.error).toBeInstanceOf(CommandError);
    expect((up.error as Error).message).toMatch(/\[mandatory\]\s+pool-size-limit/);
    expect(up.findings.all()).toEqual([violation]);
    expect(up.summary).toMatchObject({ result: 'failed', resourceChanges: { create: 3 } });
    // An update (always --skip-preview through the Automation API) stops at the violating resource,
    // having applied those before it: only a preview that ran first keeps a violation from changing anything.
    expect(existsSync(s.poolFile('big'))).toBe(false);
    expect(existsSync(s.clusterFile)).toBe(true);
  });

  it('lets a preview and an update with an advisory violation succeed, reporting it as advisory', async () => {
    const s = await freshStack('advisory', { version: '1.30', nodePools: [{ name: 'default', size: 2 }] });
    const warning = {
      pack: 'local-files-guard',
      policy: 'cluster-owner-tag',
      resource: s.urnOf(CLUSTER, 'cluster'),
      message: `A cluster carries an \`owner\` tag.\ncluster ${s.stack.name} has no owner tag`,
      enforcement: 'advisory',
    };

    const preview = await run(s.stack, 'preview');
    expect(preview.error).toBeNull();
    expect(preview.findings.all()).toEqual([warning]);

    const up = await run(s.stack, 'up');
    expect(up.error).toBeNull();
    expect(up.findings.advisory()).toEqual([warning]);
    expect(up.findings.mandatory()).toEqual([]);
    expect(up.summary).toMatchObject({ result: 'succeeded', resourceChanges: { create: 4 }, PolicyPacks: ranThePack });
    expect(existsSync(s.poolFile('default'))).toBe(true);
  });

  it('finds nothing in a spec that breaks no policy, though the pack ran', async () => {
    const s = await freshStack('clean', { version: '1.30', nodePools: [{ name: 'default', size: 50 }], tags: { owner: 'platform' } });
    const up = await run(s.stack, 'up');
    expect(up.error).toBeNull();
    expect(up.findings.all()).toEqual([]);
    expect(up.summary).toMatchObject({ result: 'succeeded', PolicyPacks: ranThePack });
  });

  it('runs no pack on refresh, preview-only refresh or destroy: the SDK and the CLI take none for them', async () => {
    const s = await freshStack('other-ops', { version: '1.30', nodePools: [{ name: 'default', size: 2 }] });
    expect((await run(s.stack, 'up')).findings.advisory()).toHaveLength(1);
    for (const op of ['previewRefresh', 'refresh', 'destroy'] as const) {
      const outcome = await run(s.stack, op);
      expect(outcome.error, op).toBeNull();
      expect(outcome.findings.all(), op).toEqual([]);
      expect(outcome.summary?.PolicyPacks, op).toEqual({});
    }
    expect(existsSync(s.clusterFile)).toBe(false);
  });
});
