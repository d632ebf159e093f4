/**
 * The AutomationEngine against the real Pulumi CLI: a file:// backend and the passphrase provider in
 * a temp directory, the local-files blueprint. Every test runs on a stack of its own, so the tests run
 * at once (the SDK keeps each inline program's runtime state apart), and any one of them runs alone.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { killProcessTree } from '../../queue/process-tree.js';
import { BlueprintRegistry } from '../../src/blueprints/registry.js';
import type { OperationKind } from '../../src/domain/operation.js';
import { AutomationEngine } from '../../src/engine/automation-engine.js';
import { writeDynamicProviderLauncher } from '../../src/engine/dynamic-provider-launcher.js';
import type { EngineEvent, EngineRequest, EngineResult } from '../../src/engine/engine.js';
import { JOB_NODE_FLAGS } from '../../src/engine/job-node-flags.js';
import { buildPulumiEnv, ensureFileBackend } from '../../src/engine/pulumi-env.js';
import localFiles, { type LocalFilesSpec } from '../blueprints/local-files.js';
import { jobProcessesOf } from '../support/processes.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PASSPHRASE = 'engine-test-passphrase';

describe.concurrent('AutomationEngine with the local-files blueprint', () => {
  let dataDir: string;
  let cliDir: string;
  let launcherDir: string;
  let engine: AutomationEngine;
  let env: Record<string, string>;
  const spec = (over: Partial<LocalFilesSpec> = {}): LocalFilesSpec => ({
    version: '1.30',
    nodePools: [{ name: 'default', size: 2 }],
    ...over,
  });
  const ok = (r: EngineResult) => assert.equal(r.status, 'succeeded', JSON.stringify(r.error));
  const sizeIn = (file: string) => JSON.parse(readFileSync(file, 'utf8')).size;

  /** A stack no other test uses (not created yet): its files, and runs of the engine on it. */
  function freshStack(stem: string) {
    const name = `${stem}-${randomUUID().slice(0, 8)}`;
    const clusterDir = path.join(dataDir, 'local-clusters', name);
    const requestFor = (kind: OperationKind, s: LocalFilesSpec): EngineRequest => ({
      operationId: `op-${kind}`,
      kind,
      stackName: name,
      blueprint: 'local-files',
      spec: s,
      context: { clusterName: name, team: 'alpha', labels: {} },
      recover: false,
    });
    return {
      name,
      clusterDir,
      poolFile: (pool: string) => path.join(clusterDir, 'pools', `${pool}.json`),
      stateFile: path.join(dataDir, 'state', '.pulumi', 'stacks', 'clusterd', `${name}.json`),
      lockFiles: () => {
        const dir = path.join(dataDir, 'state', '.pulumi', 'locks', 'organization', 'clusterd', name);
        return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
      },
      requestFor,
      async run(kind: OperationKind, s: LocalFilesSpec, { recover = false } = {}) {
        const events: EngineEvent[] = [];
        const result = await engine.run(
          { ...requestFor(kind, s), recover },
          { onEvent: (e) => events.push(e), signal: new AbortController().signal },
        );
        return { result, events };
      },
    };
  }

  /** A fresh stack, provisioned with `s`. */
  async function provisionedStack(stem: string, s = spec()) {
    const stack = freshStack(stem);
    ok((await stack.run('provision', s)).result);
    return stack;
  }

  /**
   * Runs one request in a separate process (group), as a worker's child would: a cancelled inline
   * program leaves late gRPC rejections in its process, which the test runner would pin on a test,
   * and a crash can only be simulated by killing a process. `abort-on-update` aborts at the first
   * update step and prints the result; `report-update` announces that step and waits to be killed.
   * `step` names the step watched for: `update`, or `create` for a provision.
   */
  function spawnRun(request: EngineRequest, mode: 'abort-on-update' | 'report-update', step: 'update' | 'create' = 'update') {
    const script = `
      process.on('unhandledRejection', () => {});
      const { BlueprintRegistry } = await import(${JSON.stringify(path.join(ROOT, 'src/blueprints/registry.ts'))});
      const { AutomationEngine } = await import(${JSON.stringify(path.join(ROOT, 'src/engine/automation-engine.ts'))});
      const { default: localFiles } = await import(${JSON.stringify(path.join(ROOT, 'test/blueprints/local-files.ts'))});
      const c = JSON.parse(process.env.ENGINE_TEST_CONFIG);
      const registry = new BlueprintRegistry();
      registry.register(localFiles({ dataDir: c.dataDir }));
      const engine = new AutomationEngine({ projectName: 'clusterd', workRoot: c.workRoot, env: c.env, secretsProvider: 'passphrase', registry });
      const abort = new AbortController();
      const result = await engine.run(c.request, { signal: abort.signal, onEvent: (e) => {
        if (e.data?.resourcePreEvent?.metadata?.op !== c.step) return;
        if (c.mode === 'abort-on-update') abort.abort(); else console.log('UPDATING');
      } });
      console.log('RESULT ' + JSON.stringify(result));
      process.exit(0);`;
    const config = { dataDir, workRoot: path.join(dataDir, 'workspaces'), env, request, mode, step };
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1', ENGINE_TEST_CONFIG: JSON.stringify(config) },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const updating = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => out.includes('UPDATING') && resolve());
      child.once('exit', () => reject(new Error('the run ended before its update started')));
    });
    updating.catch(() => undefined);
    const done = new Promise<EngineResult>((resolve, reject) =>
      child.once('exit', () => {
        const line = out.split('\n').find((l) => l.startsWith('RESULT '));
        if (line) resolve(JSON.parse(line.slice('RESULT '.length)) as EngineResult);
        else reject(new Error(`no result from the run:\n${out}`));
      }),
    );
    done.catch(() => undefined);
    return { child, updating, done };
  }

  beforeAll(async () => {
    cliDir = execFileSync('bash', [path.join(ROOT, 'scripts/ensure-pulumi.sh')], { encoding: 'utf8' }).trim();
    dataDir = mkdtempSync(path.join(tmpdir(), 'clusterd-engine-'));
    const backendUrl = `file://${path.join(dataDir, 'state')}`;
    await ensureFileBackend(backendUrl);
    const passphraseFile = path.join(dataDir, 'given-passphrase');
    writeFileSync(passphraseFile, PASSPHRASE, { mode: 0o600 });
    launcherDir = await writeDynamicProviderLauncher(path.join(dataDir, 'bin'));
    env = buildPulumiEnv({ dataDir, backendUrl, secretsProvider: 'passphrase', passphraseFile, cliDir, launcherDir });
    const registry = new BlueprintRegistry();
    registry.register(localFiles({ dataDir }));
    engine = new AutomationEngine({
      projectName: 'clusterd',
      workRoot: path.join(dataDir, 'workspaces'),
      env,
      secretsProvider: 'passphrase',
      registry,
    });
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('provisions: files exist, outputs are returned with secrets masked, and no secret is in clear in the state', async () => {
    const stack = freshStack('eng-provision');
    const { result, events } = await stack.run('provision', spec({ secretValue: 'hunter2-engine-secret' }));
    ok(result);
    assert.deepEqual(result.summary?.counts, { create: 3, update: 0, replace: 0, delete: 0, same: 0 });
    assert.deepEqual(result.outputs, {
      endpoint: `file://${path.join(stack.clusterDir, 'cluster.json')}`,
      version: '1.30',
      nodePools: ['default'],
      kubeconfig: '[secret]',
      secretValue: '[secret]',
    });
    assert.equal(sizeIn(stack.poolFile('default')), 2);
    const token = JSON.parse(readFileSync(path.join(stack.clusterDir, 'cluster.json'), 'utf8')).token as string;
    const state = readFileSync(stack.stateFile, 'utf8');
    for (const secret of [token, 'hunter2-engine-secret', PASSPHRASE]) {
      assert.ok(!state.includes(secret), `the state holds ${secret} in clear`);
      assert.ok(!JSON.stringify(events).includes(secret), `the events carry ${secret}`);
    }
    assert.ok(events.some((e) => e.type === 'engine') && events.some((e) => e.type === 'log'));
  });

  it('updates a pool size: one resource updated, with the property named', async () => {
    const stack = await provisionedStack('eng-update');
    const { result } = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    ok(result);
    assert.deepEqual(result.summary?.counts, { create: 0, update: 1, replace: 0, delete: 0, same: 2 });
    assert.deepEqual(
      result.summary?.resources.map((r) => [r.name, r.op, r.properties]),
      [['pool-default', 'update', ['size']]],
    );
    assert.equal(sizeIn(stack.poolFile('default')), 5);
  });

  it('previews planned changes without applying them', async () => {
    const stack = await provisionedStack('eng-preview', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    const before = readFileSync(stack.stateFile, 'utf8');
    const { result } = await stack.run(
      'preview',
      spec({
        version: '1.31',
        nodePools: [
          { name: 'default', size: 5 },
          { name: 'gpu', size: 1 },
        ],
      }),
    );
    ok(result);
    assert.deepEqual(result.summary?.counts, { create: 1, update: 1, replace: 0, delete: 0, same: 2 });
    assert.deepEqual(
      result.summary?.resources.map((r) => [r.name, r.op, r.properties]),
      [
        ['cluster', 'update', ['version']],
        ['pool-gpu', 'create', []],
      ],
    );
    assert.equal(result.outputs, null);
    assert.ok(!existsSync(stack.poolFile('gpu')));
    assert.equal(readFileSync(stack.stateFile, 'utf8'), before);
  });

  it('drift-check reports an out-of-band edit with the exact property and writes nothing', async () => {
    const stack = await provisionedStack('eng-drift', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    writeFileSync(stack.poolFile('default'), JSON.stringify({ name: 'default', size: 9, tags: {} }));
    const before = readFileSync(stack.stateFile, 'utf8');
    const { result } = await stack.run('drift-check', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    ok(result);
    assert.deepEqual(
      result.summary?.resources.map((r) => [r.name, r.properties]),
      [['pool-default', ['size']]],
    );
    assert.equal(readFileSync(stack.stateFile, 'utf8'), before);
  });

  it('refresh adopts the out-of-band edit, and the next update puts the spec back', async () => {
    const stack = await provisionedStack('eng-refresh', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    writeFileSync(stack.poolFile('default'), JSON.stringify({ name: 'default', size: 9, tags: {} }));
    const { result } = await stack.run('refresh', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    ok(result);
    assert.deepEqual(
      result.summary?.resources.map((r) => [r.name, r.op, r.properties]),
      [['pool-default', 'update', ['size']]],
    );
    assert.equal(result.outputs?.kubeconfig, '[secret]');
    const again = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    ok(again.result);
    assert.equal(sizeIn(stack.poolFile('default')), 5);
  });

  it('fails with resource-error and a readable message when the provider throws', async () => {
    const stack = await provisionedStack('eng-fails', spec({ nodePools: [{ name: 'default', size: 5 }] }));
    const { result } = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 6 }], failOn: 'update' }));
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'resource-error');
    assert.match(result.error.title, /"cluster" failed$/);
    assert.equal(result.error?.detail, `local-files: refusing to update ${path.join(stack.clusterDir, 'cluster.json')} (failOn: update)`);
  });

  it('answers spec-invalid without touching the stack when the spec breaks a rule', async () => {
    const stack = freshStack('eng-invalid');
    const { result } = await stack.run('update', { version: 'latest', nodePools: [] });
    assert.deepEqual(result.error, {
      code: 'spec-invalid',
      title: 'The operation cannot run',
      detail: 'spec.version: must look like 1.30',
    });
    assert.ok(!existsSync(stack.stateFile), 'a stack was created');
  });

  it('creates the stack an update finds missing, and fails a refresh of a missing stack with stack-not-found', async () => {
    const stack = freshStack('eng-no-stack');
    const updated = await stack.run('update', spec());
    ok(updated.result);
    assert.equal(updated.result.outputs?.version, '1.30');
    assert.ok(existsSync(stack.stateFile), 'the update left no stack');
    const other = freshStack('eng-no-stack');
    const refreshed = await other.run('refresh', spec());
    assert.deepEqual(
      { status: refreshed.result.status, code: refreshed.result.error?.code },
      { status: 'failed', code: 'stack-not-found' },
    );
    assert.ok(!existsSync(other.stateFile), 'the refresh made a stack');
  });

  it('runs one CLI process for an update and two for a provision, with the outputs `pulumi stack output` gives, and our plugin launcher', async () => {
    // A `pulumi` that logs its command line before it runs the real one.
    const wrapperDir = mkdtempSync(path.join(tmpdir(), 'clusterd-cli-count-'));
    const calls = path.join(wrapperDir, 'calls.log');
    writeFileSync(path.join(wrapperDir, 'pulumi'), `#!/bin/sh\necho "$1 $2" >> ${calls}\nexec ${path.join(cliDir, 'pulumi')} "$@"\n`, {
      mode: 0o755,
    });
    const registry = new BlueprintRegistry();
    registry.register(localFiles({ dataDir }));
    const workRoot = path.join(wrapperDir, 'workspaces');
    const counted = new AutomationEngine({
      projectName: 'clusterd',
      workRoot,
      env: { ...env, PATH: `${wrapperDir}${path.delimiter}${env.PATH}` },
      secretsProvider: 'passphrase',
      registry,
    });
    const stack = freshStack('eng-cli-count');
    const commandsOf = async (kind: OperationKind, s: LocalFilesSpec) => {
      writeFileSync(calls, '');
      const result = await counted.run(stack.requestFor(kind, s), { onEvent: () => undefined, signal: new AbortController().signal });
      ok(result);
      return { result, commands: readFileSync(calls, 'utf8').trim().split('\n') };
    };
    const plugins = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const p of jobProcessesOf(dataDir)) if (p.cmd.includes('dynamic-provider')) plugins.add(p.cmd);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      // The engine finds the CLI once (`pulumi version`) before its first operation.
      const provision = await commandsOf('provision', spec({ secretValue: 'counted-secret' }));
      sampling = false;
      await sampler;
      // The CLI found our launcher first on PATH: this Node with the job's flags, the serializer deferred,
      // no resolving process.
      assert.ok(plugins.size > 0, 'no dynamic-provider plugin was seen');
      const launched = `${process.execPath} ${JOB_NODE_FLAGS.join(' ')} --import ${path.join(launcherDir, 'defer-serializer.mjs')} `;
      for (const cmd of plugins) assert.ok(cmd.startsWith(launched), cmd);
      assert.deepEqual(
        provision.commands.filter((c) => !c.startsWith('version')),
        ['stack init', 'up --yes'],
      );
      const update = await commandsOf('update', spec({ nodePools: [{ name: 'default', size: 3 }], secretValue: 'counted-secret' }));
      assert.deepEqual(update.commands, ['up --yes']);
      const fromCli = JSON.parse(
        execFileSync(path.join(cliDir, 'pulumi'), ['stack', 'output', '--json', '--stack', stack.name], {
          cwd: path.join(workRoot, stack.name),
          env: { ...process.env, ...env },
          encoding: 'utf8',
        }),
      );
      assert.deepEqual(update.result.outputs, fromCli);
      assert.equal(fromCli.secretValue, '[secret]');
    } finally {
      sampling = false;
      rmSync(wrapperDir, { recursive: true, force: true });
    }
  });

  it('recovers a stack left locked with pending operations by a run killed with SIGKILL', async () => {
    const stack = await provisionedStack('eng-recover');
    const { child, updating } = spawnRun(
      stack.requestFor('update', spec({ nodePools: [{ name: 'default', size: 8 }], delayMs: 60_000 })),
      'report-update',
    );
    await updating;
    // Let the engine persist the step as a pending operation before the crash.
    await new Promise((r) => setTimeout(r, 1000));
    await killProcessTree(child.pid!);
    await new Promise((r) => child.once('exit', r));

    assert.equal(stack.lockFiles().length, 1, 'the killed run left its lock');
    const pending = JSON.parse(readFileSync(stack.stateFile, 'utf8')).checkpoint.latest.pending_operations;
    assert.equal(pending.length, 1, 'the killed run left a pending operation');

    const blocked = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 8 }] }));
    assert.equal(blocked.result.status, 'failed');
    assert.equal(blocked.result.error?.code, 'stack-locked');
    assert.match(blocked.result.error.detail, /^Locked since \S+ by \S+ \(pid \d+\)\. If no other operation is running/);

    const recovered = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 8 }] }), { recover: true });
    ok(recovered.result);
    assert.ok(
      recovered.events.some(
        (e) =>
          e.type === 'log' &&
          /^recovery: lock released with pulumi cancel; cleared 1 pending operation\(s\): updating/.test(String(e.data)),
      ),
    );
    assert.deepEqual(stack.lockFiles(), []);
    assert.equal(JSON.parse(readFileSync(stack.stateFile, 'utf8')).checkpoint.latest.pending_operations, undefined);
    assert.equal(sizeIn(stack.poolFile('default')), 8);
  });

  it('provisions again, with recovery, a stack that a provision killed with SIGKILL left locked', async () => {
    // A first attempt inits its stack without selecting it first; a later one must get past the lock.
    const stack = freshStack('eng-reprovision');
    const { child, updating: creating } = spawnRun(stack.requestFor('provision', spec({ delayMs: 60_000 })), 'report-update', 'create');
    await creating;
    await new Promise((r) => setTimeout(r, 1000));
    await killProcessTree(child.pid!);
    await new Promise((r) => child.once('exit', r));
    assert.equal(stack.lockFiles().length, 1, 'the killed provision left its lock');

    const again = await stack.run('provision', spec(), { recover: true });
    ok(again.result);
    assert.deepEqual(stack.lockFiles(), []);
    assert.equal(sizeIn(stack.poolFile('default')), 2);
  });

  it('destroys: the files and the stack are gone', async () => {
    const stack = await provisionedStack('eng-destroy');
    const { result } = await stack.run('destroy', spec());
    ok(result);
    assert.equal(result.summary?.counts.delete, 3);
    assert.ok(!existsSync(stack.clusterDir), 'the cluster directory is left');
    assert.ok(!existsSync(stack.stateFile), 'the stack is left');
    const again = await stack.run('destroy', spec());
    ok(again.result);
    assert.deepEqual(again.result.summary?.counts, { create: 0, update: 0, replace: 0, delete: 0, same: 0 });
  });

  // Alone: its bound on the time a cancel takes must not count the other tests' load.
  it('cancels mid-run through the AbortSignal and leaves the stack unlocked', { concurrent: false }, async () => {
    const stack = await provisionedStack('eng-cancel');
    const started = Date.now();
    const { done } = spawnRun(
      stack.requestFor('update', spec({ nodePools: [{ name: 'default', size: 7 }], delayMs: 2500 })),
      'abort-on-update',
    );
    const result = await done;
    assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
    assert.equal(result.error?.code, 'cancelled');
    assert.ok(Date.now() - started < 20_000);
    assert.deepEqual(stack.lockFiles(), []);
    const next = await stack.run('update', spec({ nodePools: [{ name: 'default', size: 7 }] }));
    ok(next.result);
    assert.equal(sizeIn(stack.poolFile('default')), 7);
  });
});
