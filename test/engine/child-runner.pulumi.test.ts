/**
 * runInChildProcess against the real Pulumi CLI: each operation in its own child process, events
 * relayed, graceful cancel, the grace kill, a dying child, a dying parent, and no process of a run
 * left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { runInChildProcess, type ChildConfig } from '../../queue/child-runner.js';
import type { OperationKind } from '../../src/domain/operation.js';
import type { EngineEvent, EngineRequest, EngineResult } from '../../src/engine/engine.js';
import { writeDynamicProviderLauncher } from '../../src/engine/dynamic-provider-launcher.js';
import { JOB_NODE_FLAGS } from '../../src/engine/job-node-flags.js';
import { buildPulumiEnv, ensureFileBackend, ensurePassphrase, passphraseFileOf } from '../../src/engine/pulumi-env.js';
import { engineEnvironment } from '../../src/engine/engine-env.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('runInChildProcess', () => {
  let dataDir: string;
  let childConfig: ChildConfig;
  const lockFiles = (stack: string) => {
    const dir = path.join(dataDir, 'state', '.pulumi', 'locks', 'organization', 'clusterd', stack);
    return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  };
  // Each test has a stack of its own, so that none relies on another having run.
  const request = (stack: string, kind: OperationKind, spec: Record<string, unknown>, recover = false): EngineRequest => ({
    operationId: `op-${stack}-${kind}`,
    kind,
    stackName: stack,
    blueprint: 'local-files',
    recover,
    spec: { version: '1.30', nodePools: [{ name: 'default', size: 2 }], ...spec },
    context: { clusterName: stack, team: 'alpha', labels: {} },
  });
  const isUpdateStep = (e: EngineEvent) => (e.data as any)?.resourcePreEvent?.metadata?.op === 'update';

  /** Runs a request; aborts at the first update step when `abortOnUpdate`; returns the result, events and wall time. */
  async function run(req: EngineRequest, { abortOnUpdate = false, cancelGraceMs = 30_000, onEvent = (_e: EngineEvent) => {} } = {}) {
    const abort = new AbortController();
    const events: EngineEvent[] = [];
    const started = Date.now();
    const result = await runInChildProcess(req, {
      childConfig,
      cancelGraceMs,
      signal: abort.signal,
      // As the worker gives it, plus a mark by which `leftovers` recognises this test's job children.
      processEnv: { ...engineEnvironment(process.env), CLUSTERD_TEST_MARK: dataDir },
      onEvent: (e) => {
        events.push(e);
        onEvent(e);
        if (abortOnUpdate && isUpdateStep(e)) abort.abort();
      },
    });
    return { result, events, ms: Date.now() - started };
  }
  /** A stack provisioned through a child process, for a test that changes it. */
  async function provisioned(stack: string): Promise<string> {
    ok((await run(request(stack, 'provision', {}))).result);
    return stack;
  }
  const ok = (r: EngineResult) => assert.equal(r.status, 'succeeded', JSON.stringify(r.error));

  /**
   * Processes of this test's runs, found with `ps` and told apart by their environment: Pulumi
   * processes carry this data dir's PULUMI_HOME, the job children the CLUSTERD_TEST_MARK they inherit.
   */
  function leftovers(): string[] {
    const marks = [`PULUMI_HOME=${path.join(dataDir, 'pulumi-home')}`, `CLUSTERD_TEST_MARK=${dataDir}`];
    return (
      execFileSync('ps', ['-A', '-o', 'pid=,args='], { encoding: 'utf8' })
        .split('\n')
        .map((l) => /^\s*(\d+)\s+(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => !!m && Number(m[1]) !== process.pid && /pulumi|child-entry/.test(m[2]!))
        .filter((m) => {
          try {
            const environ = readFileSync(`/proc/${m[1]}/environ`, 'utf8').split('\0');
            return marks.some((mark) => environ.includes(mark));
          } catch {
            return false;
          }
        })
        // The whole command line: the job child's script comes after the loader's long path.
        .map((m) => `${m[1]} ${m[2]}`)
    );
  }
  async function assertNothingLeft(withinMs = 3_000) {
    const deadline = Date.now() + withinMs;
    while (leftovers().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(leftovers(), [], 'processes of the run outlived it');
  }

  beforeAll(async () => {
    const cliDir = execFileSync('bash', [path.join(ROOT, 'scripts/ensure-pulumi.sh')], { encoding: 'utf8' }).trim();
    dataDir = mkdtempSync(path.join(tmpdir(), 'clusterd-child-'));
    const backendUrl = `file://${path.join(dataDir, 'state')}`;
    await ensureFileBackend(backendUrl);
    await ensurePassphrase(dataDir);
    childConfig = {
      projectName: 'clusterd',
      workRoot: path.join(dataDir, 'workspaces'),
      env: buildPulumiEnv({
        dataDir,
        backendUrl,
        secretsProvider: 'passphrase',
        passphraseFile: passphraseFileOf(dataDir),
        cliDir,
        launcherDir: await writeDynamicProviderLauncher(path.join(dataDir, 'bin')),
      }),
      secretsProvider: 'passphrase',
      blueprintModules: [path.join(ROOT, 'test/blueprints/local-files.ts')],
      dataDir,
      // The child looks for the CLI itself, as when its worker found none.
      cli: null,
      policyPacks: { packs: [], configs: [] },
    };
  });
  afterAll(() => {
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs an operation in a child process, streams its events in order and leaves no process behind', async () => {
    let sawPulumiWhileRunning = false;
    let child: string | undefined;
    const { result, events } = await run(request('child-run', 'provision', {}), {
      onEvent: (e) => {
        if (sawPulumiWhileRunning || e.type !== 'engine') return;
        const running = leftovers();
        sawPulumiWhileRunning = running.some((p) => /\/pulumi up /.test(p));
        child = running.find((p) => p.includes('child-entry'));
      },
    });
    ok(result);
    assert.equal(result.outputs?.kubeconfig, '[secret]');
    assert.ok(sawPulumiWhileRunning, 'the leftovers probe did not see the running CLI');
    // The job's Node flags (job-node-flags.ts): what keeps the child's memory down.
    assert.ok(child?.includes(` ${JOB_NODE_FLAGS.join(' ')} `), `the job child runs with the job's Node flags: ${child}`);
    assert.ok(events.some((e) => e.type === 'log') && events.some((e) => e.type === 'engine'));
    const sequences = events.filter((e) => e.type === 'engine').map((e) => (e.data as { sequence: number }).sequence);
    assert.deepEqual(
      sequences,
      [...sequences].sort((a, b) => a - b),
    );
    assert.ok(events.some((e) => (e.data as any)?.summaryEvent?.result === 'succeeded'));
    await assertNothingLeft();
  });

  it('cancels gracefully within the grace period', async () => {
    const stack = await provisioned('child-cancel');
    const { result } = await run(request(stack, 'update', { nodePools: [{ name: 'default', size: 3 }], delayMs: 2000 }), {
      abortOnUpdate: true,
    });
    assert.equal(result.status, 'cancelled', JSON.stringify(result.error));
    assert.equal(result.error?.code, 'cancelled');
    assert.deepEqual(lockFiles(stack), [], 'a graceful cancel releases the lock');
    await assertNothingLeft();
  });

  it('kills the whole process tree when the cancel outlasts the grace, and the next run recovers', async () => {
    const stack = await provisioned('child-kill');
    const { result, ms } = await run(request(stack, 'update', { nodePools: [{ name: 'default', size: 4 }], delayMs: 60_000 }), {
      abortOnUpdate: true,
      cancelGraceMs: 100,
    });
    assert.equal(result.status, 'cancelled');
    assert.equal(result.error?.code, 'engine-killed');
    assert.equal(result.error?.title, 'The engine was killed');
    assert.ok(ms < 20_000, `took ${ms} ms`);
    await assertNothingLeft();
    assert.equal(lockFiles(stack).length, 1, 'a killed engine leaves its lock');
    const next = await run(request(stack, 'update', { nodePools: [{ name: 'default', size: 4 }] }, true));
    ok(next.result);
    assert.deepEqual(lockFiles(stack), []);
  });

  it('answers worker-child-died when the child process dies, and kills the engine it left', async () => {
    const stack = await provisioned('child-died');
    let killed = false;
    const { result } = await run(request(stack, 'update', { nodePools: [{ name: 'default', size: 5 }], delayMs: 60_000 }), {
      onEvent: (e) => {
        if (killed || !isUpdateStep(e)) return;
        killed = true;
        const child = leftovers().find((p) => p.includes('child-entry'));
        assert.ok(child, 'no job child found');
        // Only the child: the engine it leaves behind must not outlive it.
        process.kill(Number(child.split(' ')[0]), 'SIGKILL');
      },
    });
    assert.equal(result.status, 'failed');
    assert.equal(result.error?.code, 'worker-child-died');
    assert.match(result.error.detail, /exited on SIGKILL before reporting a result/);
    await assertNothingLeft();
  });

  it('cancels and exits when its parent worker is SIGKILLed, leaving nothing running', async () => {
    const script = `
      const { runInChildProcess } = await import(${JSON.stringify(path.join(ROOT, 'queue/child-runner.ts'))});
      const c = JSON.parse(process.env.CHILD_TEST_CONFIG);
      await runInChildProcess(c.request, { childConfig: c.childConfig, cancelGraceMs: 30000, signal: new AbortController().signal,
        onEvent: (e) => { if (e.data?.resourcePreEvent?.metadata?.op === 'update') console.log('UPDATING'); } });`;
    const stack = await provisioned('child-orphan');
    const config = { childConfig, request: request(stack, 'update', { nodePools: [{ name: 'default', size: 6 }], delayMs: 1500 }) };
    const worker = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, NODE_NO_WARNINGS: '1', CHILD_TEST_CONFIG: JSON.stringify(config) },
    });
    await new Promise<void>((resolve, reject) => {
      worker.stdout.on('data', (d: Buffer) => d.toString().includes('UPDATING') && resolve());
      worker.once('exit', () => reject(new Error('the worker ended before the update started')));
    });
    worker.kill('SIGKILL');
    assert.ok(leftovers().length > 0, 'the orphaned run should still be there at first');
    // The child cancels gracefully, then kills its tree after at most 8 s.
    await assertNothingLeft(15_000);
    assert.deepEqual(lockFiles(stack), [], 'the orphan cancelled gracefully and released the lock');
  });

  it('destroys the stack through a child process', async () => {
    const stack = await provisioned('child-destroy');
    const { result } = await run(request(stack, 'destroy', {}));
    ok(result);
    assert.ok(!existsSync(path.join(dataDir, 'local-clusters', stack)));
    await assertNothingLeft();
  });
});
