/**
 * The embedded store's one-owner rule, between real service processes: `node dist/src/main.js` on one
 * data directory, as an operator would start them by mistake.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { Redis } from 'ioredis';
import { openPglite } from '../../src/store/pglite-client.js';
import { childrenNamed } from '../support/processes.js';
import { redisUrl, ROOT, SERVICE_MAIN } from '../support/harness.js';

/** Generous: the service compiles with tsx and opens PGlite on a loaded machine. */
const START_TIMEOUT_MS = 120_000;

interface Service {
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

describe('one process owns the embedded record store', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const started: Service[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-owner-'));
    const { DATABASE_URL: _shared, ...inherited } = process.env;
    env = {
      ...inherited,
      CLUSTERD_DATA_DIR: dataDir,
      PORT: '0',
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `test-${randomUUID()}`,
      PULUMI_CONFIG_PASSPHRASE: 'test-passphrase-not-secret',
      DRIFT_SWEEP_CRON: 'off',
      LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    for (const s of started) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
    await Promise.all(started.map((s) => s.exited));
    const redis = new Redis(redisUrl());
    const keys = await redis.keys(`${env.QUEUE_PREFIX}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await rm(dataDir, { recursive: true, force: true });
  });

  function start(extra: NodeJS.ProcessEnv = {}): Service {
    const child = spawn(process.execPath, SERVICE_MAIN, { cwd: ROOT, env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
    const service: Service = {
      child,
      stdout: [],
      stderr: [],
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => service.stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => service.stderr.push(chunk));
    started.push(service);
    return service;
  }

  /** The URL the service logged once listening. */
  async function listening(service: Service): Promise<string> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const line = service.stdout
        .join('')
        .split('\n')
        .find((l) => l.includes('"API listening"'));
      if (line) return JSON.parse(line).url;
      if (service.child.exitCode !== null) throw new Error(`the service exited (${service.child.exitCode}): ${service.stderr.join('')}`);
      if (Date.now() > deadline) throw new Error(`the service did not start: ${service.stderr.join('')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function exitOf(service: Service) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running: ${service.stderr.join('')}`)), START_TIMEOUT_MS);
    });
    try {
      return await Promise.race([service.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  const call = (url: string, token: string, method: string, p: string, body?: unknown) =>
    fetch(url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function issueTokens(url: string, admin: string, count: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const res = await call(url, admin, 'POST', '/v1/tokens', { name: `t-${randomUUID().slice(0, 8)}`, team: 'owners' });
      assert.equal(res.status, 201);
      tokens.push(((await res.json()) as { token: string }).token);
    }
    return tokens;
  }

  async function assertAllAuthenticate(url: string, tokens: string[]) {
    for (const token of tokens) assert.equal((await call(url, token, 'GET', '/v1/clusters')).status, 200);
  }

  it('refuses a second process with what to configure, even while the owner is stopped, keeps the first serving with its rows, and starts again after the owner is SIGKILLed', async () => {
    const owner = start();
    const url = await listening(owner);
    const admin = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
    const tokens = await issueTokens(url, admin, 20);

    const second = start();
    const refused = await exitOf(second);
    const message = second.stderr.join('');
    assert.equal(refused.code, 2, message);
    assert.match(message, new RegExp(`is already open in process ${owner.child.pid} on `));
    assert.match(message, /set DATABASE_URL to a PostgreSQL database/);
    assert.match(message, /another CLUSTERD_DATA_DIR/);
    assert.doesNotMatch(second.stdout.join(''), /API listening/);

    // An owner that is stopped (or whose event loop is stuck) still owns it: nothing times it out.
    owner.child.kill('SIGSTOP');
    const whileStopped = start();
    const refusedAgain = await exitOf(whileStopped);
    owner.child.kill('SIGCONT');
    assert.equal(refusedAgain.code, 2, whileStopped.stderr.join(''));
    assert.match(whileStopped.stderr.join(''), new RegExp(`is already open in process ${owner.child.pid} on `));

    tokens.push(...(await issueTokens(url, admin, 20)));
    await assertAllAuthenticate(url, tokens);

    owner.child.kill('SIGKILL');
    await exitOf(owner);
    const restarted = start();
    const again = await listening(restarted);
    await assertAllAuthenticate(again, tokens);
    restarted.child.kill('SIGTERM');
    assert.deepEqual(
      await exitOf(restarted),
      { code: 0, signal: null },
      `${restarted.stdout.join('').slice(-3000)}\n${restarted.stderr.join('').slice(-3000)}`,
    );

    // Stopped, it let go: the store opens here, and holds every token (and the first admin token).
    const records = await openPglite(path.join(dataDir, 'records'), { lockWaitMs: 0 });
    try {
      assert.deepEqual((await records.query<{ n: number }>('SELECT count(*)::int AS n FROM api_tokens')).rows, [{ n: 41 }]);
    } finally {
      await records.close();
    }
  });

  it('stops at once, with a fatal log, when its lock is taken away while it runs', async () => {
    const service = start();
    await listening(service);
    const [helper, ...others] = await childrenNamed(service.child.pid!, 'flock');
    assert.ok(helper !== undefined && others.length === 0, 'one flock helper');
    process.kill(helper, 'SIGKILL');
    const exit = await exitOf(service);
    assert.equal(exit.code, 70);
    const fatal = service.stdout
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.level === 60);
    assert.equal(fatal?.msg, 'lost the lock on the embedded record store; stopping without writing anything more');
    assert.match(fatal?.err, /the flock helper \(pid \d+\) exited \(SIGKILL\)/);
  });

  it('refuses to start an api or worker process without DATABASE_URL, naming both keys', async () => {
    for (const role of ['api', 'worker']) {
      const service = start({ CLUSTERD_ROLE: role });
      const exit = await exitOf(service);
      assert.equal(exit.code, 2);
      assert.match(service.stderr.join(''), new RegExp(`CLUSTERD_ROLE: CLUSTERD_ROLE=${role} needs DATABASE_URL`));
    }
  });
});
