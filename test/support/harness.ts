/**
 * Starts the real service for a test: API in this process, workers in this process or as
 * separate OS processes (so they can be SIGKILLed), a fresh PostgreSQL database (or PGlite when
 * no server is given), a fresh queue prefix on the shared test Redis, and a temp data directory.
 * Everything is removed by `stop()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config.js';
import { JOB_NODE_FLAGS } from '../../src/engine/job-node-flags.js';
import { createLogger } from '../../src/logger.js';
import { startService, type RunningService } from '../../src/main.js';
import { copyPgliteTemplate } from './pglite-template.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** A test blueprint's module: compiled by the global setup (see test/setup/services.ts), else its TypeScript. */
const testBlueprint = (name: string) =>
  process.env.CLUSTERD_TEST_BLUEPRINTS
    ? path.join(process.env.CLUSTERD_TEST_BLUEPRINTS, `${name}.js`)
    : path.join(ROOT, 'test/blueprints', `${name}.ts`);
export const TEST_BLUEPRINT = testBlueprint('local-files');
/** Stacks of outputs only, for scheduling at scale: see the module. */
export const OUTPUTS_ONLY_BLUEPRINT = testBlueprint('outputs-only');
/** Harness environment with both test blueprints loaded. */
export const WITH_OUTPUTS_ONLY = { CLUSTERD_BLUEPRINT_MODULES: [TEST_BLUEPRINT, OUTPUTS_ONLY_BLUEPRINT].join(',') };
/** An `outputs-only` spec: one pool of two; see test/blueprints/outputs-only.ts for the delays. */
export const outputsOnlySpec = (over: Record<string, unknown> = {}) => ({
  version: '1.30',
  nodePools: [{ name: 'default', size: 2 }],
  ...over,
});
/** The compiled service, as `npm start` and production run it (the global setup builds it): Node arguments. */
export const SERVICE_MAIN = ['--enable-source-maps', '--max-semi-space-size=4', path.join(ROOT, 'dist/src/main.js')];
/** The compiled job child, for the workers the tests run in their own process. */
const COMPILED_CHILD = { file: path.join(ROOT, 'dist/queue/child-entry.js'), execArgv: [...JOB_NODE_FLAGS] };
export const redisUrl = () => process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface HarnessOptions {
  /** `in-process` runs API and workers together; `none` runs the API alone; a number spawns that many worker processes. @defaultValue 'in-process' */
  workers?: 'in-process' | 'none' | number;
  /** Extra environment for the service and workers. */
  env?: Record<string, string>;
  /** `pglite` forces the embedded store even when TEST_DATABASE_URL names a server. @defaultValue 'auto' */
  records?: 'auto' | 'pglite';
  /** The PostgreSQL server to make the test's database on. @defaultValue TEST_DATABASE_URL */
  databaseServer?: string;
  /** Rewrites the fresh database's URL before the service gets it (e.g. to go through a counting proxy). */
  databaseUrl?(url: string): string;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface Harness {
  url: string;
  adminToken: string;
  dataDir: string;
  env: Record<string, string>;
  workers: ChildProcess[];
  api<T = any>(
    method: string,
    p: string,
    opts?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: string },
  ): Promise<ApiResponse<T>>;
  /** Issues a token for a team, with `role` (default member: a team's token as it always was). */
  teamToken(team: string, role?: 'member' | 'approver' | 'viewer'): Promise<string>;
  /** Jobs in the queue in any state, and operations recorded: proof that nothing was queued. */
  queuedJobs(): Promise<number>;
  /** Polls an operation until it reaches one of `statuses`. */
  waitFor(operationId: string, statuses?: string[], timeoutMs?: number): Promise<any>;
  spawnWorker(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  stop(): Promise<void>;
}

/** A database of its own on the PostgreSQL server (none for PGlite), and how to drop it. */
export async function freshDatabase(
  records: 'auto' | 'pglite',
  server = process.env.TEST_DATABASE_URL,
): Promise<{ url: string | undefined; drop(): Promise<void> }> {
  const base = records === 'pglite' ? undefined : server;
  if (!base) return { url: undefined, drop: async () => undefined };
  const name = `clusterd_t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const workersMode = options.workers ?? 'in-process';
  const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-test-'));
  const db = await freshDatabase(options.records ?? 'auto', options.databaseServer);
  if (typeof workersMode === 'number' && !db.url) throw new Error('worker processes need TEST_DATABASE_URL (PGlite serves one process)');
  if (!db.url) await copyPgliteTemplate(path.join(dataDir, 'records'));
  const prefix = `test-${randomUUID()}`;
  const env: Record<string, string> = {
    CLUSTERD_DATA_DIR: dataDir,
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: prefix,
    PORT: '0',
    CLUSTERD_BLUEPRINT_MODULES: TEST_BLUEPRINT,
    PULUMI_CONFIG_PASSPHRASE: 'test-passphrase-not-secret',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    WORKER_LANE_LEASE_MS: '6000',
    WORKER_CANCEL_GRACE_MS: '8000',
    RECONCILE_INTERVAL_MS: '2000',
    // Streams a test leaves open end this long after stop() instead of the production 20 s.
    HTTP_SHUTDOWN_GRACE_MS: '2000',
    // One compile cache for every service the suite starts: each fresh data directory would start cold.
    WORKER_COMPILE_CACHE: path.join(tmpdir(), 'clusterd-test-compile-cache'),
    // GOGC (test/setup/env.ts) reaches the job's CLI processes.
    CLUSTERD_ENGINE_ENV: 'GOGC',
    ...(db.url ? { DATABASE_URL: options.databaseUrl ? options.databaseUrl(db.url) : db.url } : {}),
    ...options.env,
  };
  const log = createLogger(env.LOG_LEVEL!, { test: true });
  const role = workersMode === 'in-process' ? 'all' : 'api';
  // loadConfig refuses an api role on PGlite, where another process would need the same records;
  // an API alone in this test process with no worker anywhere shares them with nobody.
  const config = { ...loadConfig({ ...env, CLUSTERD_ROLE: db.url ? role : 'all' }), CLUSTERD_ROLE: role } as const;
  // Job children run compiled, as in production: under tsx each would spend a second compiling TypeScript.
  const service: RunningService = await startService(config, log, { childEntry: COMPILED_CHILD });
  const url = service.url!;
  const adminToken = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const workers: ChildProcess[] = [];

  const api: Harness['api'] = async (method, p, opts = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? adminToken}`, ...opts.headers };
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(url + p, { method, headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // Non-JSON answers (SSE) stay text.
    }
    return { status: res.status, headers: res.headers, body: parsed as any };
  };

  async function spawnWorker(extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
    const child = spawn(process.execPath, SERVICE_MAIN, {
      cwd: ROOT,
      env: { ...process.env, ...env, CLUSTERD_ROLE: 'worker', ...extraEnv },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    workers.push(child);
    return child;
  }
  if (typeof workersMode === 'number') for (let i = 0; i < workersMode; i++) await spawnWorker();

  return {
    url,
    adminToken,
    dataDir,
    env,
    workers,
    api,
    spawnWorker,
    async teamToken(team, role) {
      const res = await api('POST', '/v1/tokens', {
        body: { name: `${team}-${randomUUID().slice(0, 6)}`, team, ...(role ? { role } : {}) },
      });
      if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async waitFor(id, statuses = ['succeeded', 'failed', 'cancelled', 'superseded'], timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await api('GET', `/v1/operations/${id}`);
        if (res.status === 200 && statuses.includes(res.body.status)) return res.body;
        if (Date.now() > deadline) throw new Error(`operation ${id} did not reach ${statuses.join('/')}: ${JSON.stringify(res.body)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    async queuedJobs() {
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${prefix}:operations:*`);
      await redis.quit();
      return keys.filter((k) => /:operations:[0-9a-f-]{36}$|:operations:wake-/.test(k)).length;
    },
    async stop() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              if (w.exitCode !== null || w.signalCode !== null) return resolve();
              w.once('exit', () => resolve());
              w.kill('SIGTERM');
            }),
        ),
      );
      await service.stop();
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Stops every harness of a file that starts several, even when stopping one of them fails. */
export async function stopAll(harnesses: Harness[]): Promise<void> {
  const failures: unknown[] = [];
  for (const h of harnesses) await h.stop().catch((err: unknown) => failures.push(err));
  if (failures.length) throw new AggregateError(failures, `${failures.length} of ${harnesses.length} harnesses did not stop cleanly`);
}

/** A valid local-files spec. */
export const localSpec = (over: Record<string, unknown> = {}) => ({ version: '1.30', nodePools: [{ name: 'default', size: 2 }], ...over });
