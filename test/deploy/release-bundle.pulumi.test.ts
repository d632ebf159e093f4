/**
 * The release bundle (scripts/release-bundle.mjs) runs the service with nothing of the repository:
 * made from exactly what .dockerignore lets into the image's build context (the image's build stage
 * does the same), it holds no TypeScript of ours, no test and no dev tool, and run from its own
 * directory with `NODE_ENV=production node dist/src/main.js` it provisions and destroys a cluster of a
 * blueprint shipped as JavaScript, as an operator would ship one, then exits 0 on SIGTERM. The
 * Dockerfile cannot be built here (no daemon, no base images); what can be checked without Docker is
 * checked at the end: its COPY sources, its stages and its pinned versions.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, glob, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { Redis } from 'ioredis';
import { afterAll, describe, inject, it } from 'vitest';
import { ROOT, localSpec, redisUrl } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { jobProcessesOf } from '../support/processes.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Dev tools that must not reach the bundle's node_modules. */
const DEV_TOOLS = ['tsx', 'vitest', 'typescript', 'esbuild', '@esbuild', 'vite', 'eslint', 'prettier', '@vitest'];

/** The paths .dockerignore lets into the build context; it must be an allowlist (`*`, then `!path` lines). */
async function contextPaths(): Promise<string[]> {
  const lines = (await readFile(path.join(ROOT, '.dockerignore'), 'utf8'))
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  assert.equal(lines[0], '*', '.dockerignore must start by leaving everything out (this test reads only an allowlist)');
  const rest = lines.slice(1);
  assert.ok(
    rest.every((l) => l.startsWith('!')),
    `after "*", .dockerignore must only let paths in: ${rest.join(' ')}`,
  );
  return rest.map((l) => l.slice(1).replace(/\/$/, ''));
}

interface Bundle {
  /** Where every file of this test lives; removed at the end. */
  work: string;
  dir: string;
  /** The local-files blueprint compiled to one JavaScript module, outside the bundle. */
  blueprint: string;
}

let made: Promise<Bundle> | undefined;
/** The bundle, made once for the file by the first test that needs it. */
const bundle = () => (made ??= makeBundle());

async function makeBundle(): Promise<Bundle> {
  const work = await mkdtemp(path.join(tmpdir(), 'clusterd-release-'));
  // The build context as the image's build stage sees it; its node_modules stands for the stage's `npm install`.
  const context = path.join(work, 'context');
  for (const p of await contextPaths()) await cp(path.join(ROOT, p), path.join(context, p), { recursive: true });
  await symlink(path.join(ROOT, 'node_modules'), path.join(context, 'node_modules'));
  const dir = path.join(work, 'bundle');
  const started = performance.now();
  // Builds dist/ inside the copied context: the repository's own dist/ is left to the other test files.
  await run(process.execPath, [path.join(context, 'scripts/release-bundle.mjs'), dir], { cwd: context, maxBuffer: 16 * 2 ** 20 });
  const seconds = (performance.now() - started) / 1000;

  // An operator's blueprint module is JavaScript. Outside the bundle, its imports of @pulumi/pulumi and zod
  // must reach the service's own copies (one SDK runtime per process): ES module resolution ignores
  // NODE_PATH, so its directory gets a node_modules link to the bundle's.
  const blueprints = path.join(work, 'blueprints');
  const blueprint = path.join(blueprints, 'local-files.js');
  await build({
    entryPoints: [path.join(ROOT, 'test/blueprints/local-files.ts')],
    outfile: blueprint,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    // The provider methods' require() calls are meant for the plugin's CommonJS context (see the module): not warnings.
    logLevel: 'error',
  });
  await symlink(path.join(dir, 'node_modules'), path.join(blueprints, 'node_modules'));
  console.log(`[release-bundle] bundle made in ${seconds.toFixed(1)} s`);
  return { work, dir, blueprint };
}

afterAll(async () => {
  const b = await made?.catch(() => undefined);
  if (b) await rm(b.work, { recursive: true, force: true });
});

/** Every path under `dir` (relative), not descending into node_modules. */
async function filesOutsideNodeModules(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of glob('**', { cwd: dir, exclude: (name) => name === 'node_modules' })) found.push(entry);
  return found;
}

describe('the release bundle (scripts/release-bundle.mjs)', () => {
  it('holds the compiled service and its production dependencies, and no TypeScript of ours, no test, no dev tool', async () => {
    const { dir } = await bundle();
    const ours = await filesOutsideNodeModules(dir);
    assert.deepEqual(
      ours.filter((f) => /\.[cm]?tsx?$/.test(f)),
      [],
    );
    assert.deepEqual(
      ours.filter((f) => f.split(path.sep).includes('test')),
      [],
    );
    for (const file of ['package.json', 'package-lock.json', 'dist/src/main.js', 'dist/queue/child-entry.js', 'dist/Pulumi.yaml'])
      assert.ok(ours.includes(file), `${file} is missing from the bundle`);
    assert.ok(ours.includes('policy-packs/clusterd-baseline/index.js'), 'the example policy pack is missing');
    // Source maps stay for stack traces; the TypeScript text esbuild embeds in them does not.
    const map = JSON.parse(await readFile(path.join(dir, 'dist/src/main.js.map'), 'utf8'));
    assert.deepEqual(map.sources, ['../../src/main.ts']);
    assert.equal(map.sourcesContent, undefined);

    const lock = JSON.parse(await readFile(path.join(dir, 'package-lock.json'), 'utf8'));
    const installed = (await readdir(path.join(dir, 'node_modules'))).filter((n) => !n.startsWith('.'));
    const names = (
      await Promise.all(
        installed.map(async (n) => (n.startsWith('@') ? (await readdir(path.join(dir, 'node_modules', n))).map((s) => `${n}/${s}`) : [n])),
      )
    ).flat();
    assert.deepEqual(
      DEV_TOOLS.filter((t) => installed.includes(t) || names.includes(t)),
      [],
    );
    assert.deepEqual(
      names.filter((n) => lock.packages[`node_modules/${n}`]?.dev !== undefined || !lock.packages[`node_modules/${n}`]),
      [],
      'packages the lockfile calls dev dependencies, or does not know',
    );
    const pkg = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8'));
    assert.deepEqual(
      Object.keys(pkg.dependencies).filter((d) => !names.includes(d)),
      [],
      'production dependencies missing',
    );
  });

  it('runs from its own directory with NODE_ENV=production: a cluster of a JavaScript blueprint provisioned and destroyed over HTTP, then exit 0 on SIGTERM', async () => {
    const { work, dir, blueprint } = await bundle();
    const runDir = path.join(work, `run-${randomUUID().slice(0, 8)}`);
    const [dataDir, home, temp] = ['data', 'home', 'tmp'].map((d) => path.join(runDir, d)) as [string, string, string];
    for (const d of [dataDir, home, temp]) await mkdir(d, { recursive: true });
    const prefix = `test-${randomUUID()}`;
    const port = await freePort();
    const startedAt = Date.now();
    // Only what a deployment sets: nothing of this test process's environment (no loader, no repository path).
    const env = {
      // The pinned CLI first, then this Node (the image's only one), then the system's.
      PATH: [
        inject('services').pulumiDir,
        path.dirname(process.execPath),
        '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      ].join(path.delimiter),
      HOME: home,
      TMPDIR: temp,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      CLUSTERD_DATA_DIR: dataDir,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: prefix,
      PULUMI_BACKEND_URL: `file://${path.join(runDir, 'state')}`,
      PULUMI_CONFIG_PASSPHRASE: 'test-passphrase-not-secret',
      CLUSTERD_BLUEPRINT_MODULES: blueprint,
      LOG_LEVEL: 'info',
    };
    const service = spawn(process.execPath, ['--enable-source-maps', '--max-semi-space-size=4', 'dist/src/main.js'], {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    service.stdout.setEncoding('utf8').on('data', (c: string) => void (output += c));
    service.stderr.setEncoding('utf8').on('data', (c: string) => void (output += c));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      service.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const url = `http://127.0.0.1:${port}`;
    try {
      const since = performance.now();
      await until(
        'the service answers /healthz',
        () =>
          alive(service, output) &&
          fetch(`${url}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        120_000,
      );
      const startSeconds = (performance.now() - since) / 1000;
      const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
      const api = async (method: string, p: string, body?: unknown) => {
        const res = await fetch(url + p, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      };
      const settled = async (id: string) => {
        let op: any;
        await until(
          `operation ${id} ends`,
          async () => ['succeeded', 'failed', 'cancelled'].includes((op = (await api('GET', `/v1/operations/${id}`)).body).status),
          180_000,
        );
        return op;
      };

      const name = 'bundled-one';
      const provision = await api('POST', '/v1/clusters', { team: 'alpha', name, blueprint: 'local-files', spec: localSpec() });
      assert.equal(provision.status, 202, JSON.stringify(provision.body));
      const provisioned = await settled(provision.body.operation.id);
      assert.equal(provisioned.status, 'succeeded', JSON.stringify(provisioned.error));
      assert.equal(provisioned.kind, 'provision');
      const cluster = (await api('GET', `/v1/clusters/${name}`)).body;
      assert.equal(cluster.status, 'ready');
      assert.deepEqual(cluster.outputs, {
        endpoint: `file://${path.join(dataDir, 'local-clusters', name, 'cluster.json')}`,
        version: '1.30',
        nodePools: ['default'],
        kubeconfig: '[secret]',
      });
      assert.ok(existsSync(path.join(dataDir, 'local-clusters', name, 'pools', 'default.json')));
      const read = await api('GET', `/v1/clusters/${name}/kubeconfig`);
      assert.equal(read.status, 200, JSON.stringify(read.body));
      const kubeconfig = JSON.parse(read.body.kubeconfig);
      assert.equal(kubeconfig.kind, 'Config');
      assert.match(kubeconfig.users[0].user.token, /^[0-9a-f]{32}$/);

      const destroy = await api('DELETE', `/v1/clusters/${name}`);
      assert.equal(destroy.status, 202, JSON.stringify(destroy.body));
      const destroyed = await settled(destroy.body.operation.id);
      assert.equal(destroyed.status, 'succeeded', JSON.stringify(destroyed.error));
      assert.equal((await api('GET', `/v1/clusters/${name}`)).body.status, 'destroyed');
      assert.ok(!existsSync(path.join(dataDir, 'local-clusters', name)));

      service.kill('SIGTERM');
      const exit = await Promise.race([exited, sleep(60_000).then(() => null)]);
      assert.deepEqual(exit, { code: 0, signal: null }, output.slice(-3000));
      assert.match(output, /"msg":"stopped"/);
      assert.deepEqual(jobProcessesOf(dataDir), []);
      // A read-only root file system holds: nothing was written into the bundle or HOME.
      assert.deepEqual(await readdir(home), []);
      assert.deepEqual(await changedSince(dir, startedAt), []);
      console.log(`[release-bundle] service up in ${startSeconds.toFixed(1)} s; provision and destroy done; exited 0`);
    } finally {
      if (service.exitCode === null && service.signalCode === null) {
        service.kill('SIGKILL');
        await exited;
      }
      for (const p of jobProcessesOf(dataDir)) process.kill(p.pid, 'SIGKILL');
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
  });
});

describe('Dockerfile', () => {
  /** Its instructions, continuation lines joined, comments dropped. */
  async function instructions(): Promise<Array<{ op: string; args: string }>> {
    const text = (await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')).replace(/\\\n/g, ' ');
    return text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => {
        const [op = '', ...rest] = l.split(/\s+/);
        return { op: op.toUpperCase(), args: rest.join(' ') };
      });
  }
  const argDefault = (all: Array<{ op: string; args: string }>, name: string) =>
    all
      .find((i) => i.op === 'ARG' && i.args.startsWith(`${name}=`))
      ?.args.slice(name.length + 1)
      .replace(/^"|"$/g, '');

  it('pins the versions the repository runs: Node, the Pulumi CLI and the plugins of the built-in blueprints', async () => {
    const all = await instructions();
    const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));
    assert.equal(argDefault(all, 'NODE_VERSION'), (await readFile(path.join(ROOT, 'scripts/node-version'), 'utf8')).trim());
    assert.equal(argDefault(all, 'PULUMI_VERSION'), pkg.dependencies['@pulumi/pulumi']);
    assert.match(
      await readFile(path.join(ROOT, 'scripts/ensure-pulumi.sh'), 'utf8'),
      new RegExp(`PULUMI_VERSION:-${pkg.dependencies['@pulumi/pulumi']}`),
    );
    // Every @pulumi package that is a resource provider's SDK needs its plugin, at the SDK's version.
    const providers: string[] = [];
    for (const [name, version] of Object.entries<string>(pkg.dependencies)) {
      if (!name.startsWith('@pulumi/')) continue;
      const meta = JSON.parse(await readFile(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8'));
      if (meta.pulumi?.resource) providers.push(`${meta.pulumi.name ?? name.slice('@pulumi/'.length)}:${version}`);
    }
    assert.deepEqual(argDefault(all, 'PULUMI_PLUGINS')?.split(' ').sort(), providers.sort());
  });

  it('copies only what the build context holds, from stages it defines, and keeps the data directory in a volume', async () => {
    const all = await instructions();
    const allowed = await contextPaths();
    const stages = new Set<string>();
    for (const { op, args } of all) {
      if (op === 'FROM') {
        assert.match(args, /^node:\$\{NODE_VERSION\}-bookworm-slim( AS \w+)?$/i);
        const as = / AS (\w+)$/i.exec(args)?.[1];
        if (as) stages.add(as);
      }
      if (op !== 'COPY') continue;
      const words = args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      if (from) {
        assert.ok(stages.has(from), `COPY --from=${from}: no such stage before it`);
        continue;
      }
      for (const source of sources) {
        if (source === '.') continue;
        assert.ok(allowed.includes(source), `COPY ${source}: .dockerignore leaves it out of the context`);
        assert.ok(existsSync(path.join(ROOT, source)), `COPY ${source}: no such file`);
      }
    }
    const env = all
      .filter((i) => i.op === 'ENV')
      .map((i) => i.args)
      .join(' ');
    const dataDir = /CLUSTERD_DATA_DIR=(\S+)/.exec(env)?.[1];
    assert.ok(dataDir, 'the image sets CLUSTERD_DATA_DIR');
    assert.ok(
      all.some((i) => i.op === 'VOLUME' && i.args.includes(`"${dataDir}"`)),
      `${dataDir} is not a VOLUME`,
    );
    assert.equal(all.filter((i) => i.op === 'USER').at(-1)?.args, '10001:10001');
    assert.equal(
      all.filter((i) => i.op === 'CMD').at(-1)?.args,
      '["node", "--enable-source-maps", "--max-semi-space-size=4", "dist/src/main.js"]',
    );
  });
});

/** Waits until `test` holds, checking every 250 ms; fails after `timeoutMs`. */
async function until(what: string, test: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(250);
  }
}

/** Throws with its output when the service has exited; true otherwise. */
function alive(child: ChildProcess, output: string): true {
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the service exited:\n${output.slice(-3000)}`);
  return true;
}

/** Paths under `dir` (node_modules too) created or changed after `since` (milliseconds since the epoch). */
async function changedSince(dir: string, since: number): Promise<string[]> {
  const changed: string[] = [];
  for await (const entry of glob('**', { cwd: dir })) {
    const stat = await lstat(path.join(dir, entry));
    if (stat.mtimeMs >= since || stat.ctimeMs >= since) changed.push(entry);
  }
  return changed;
}
