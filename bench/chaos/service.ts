/**
 * The real service for a chaos run, on parts of its own so that they can be restarted without
 * disturbing anyone else on the machine: a private PostgreSQL server, a private Redis with an AOF,
 * an API process and a pool of worker processes, all on one data directory (file:// state backend).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { TEST_BLUEPRINT } from '../../test/support/harness.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../test/support/private-postgres.js';
import { startPrivateRedis, type PrivateRedis } from '../../test/support/private-redis.js';
import { JOURNAL_VAR } from '../../test/blueprints/local-files.js';
import type { ChaosOptions } from './options.js';
import { spawnService, startWorkerPool, stopService, type WorkerPool } from './processes.js';
import { freePort } from '../../test/support/ports.js';

export interface ChaosService {
  url: string;
  adminToken: string;
  dataDir: string;
  /** The records, for the audit (read-only queries). */
  databaseUrl: string;
  postgres: PrivatePostgres;
  redis: PrivateRedis;
  workers: WorkerPool;
  /** `LOCAL_FILES_JOURNAL=<path>`, as it appears in every job process's environment. */
  journalVar: string;
  journalFile: string;
  /** Stops everything and removes the data directory, PostgreSQL's and Redis' files (the run's directory stays). */
  stop(): Promise<void>;
}

async function createDatabase(serverUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query('CREATE DATABASE clusterd');
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = '/clusterd';
  return url.toString();
}

async function waitForApi(url: string, dataDir: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    const token = ok ? await readFile(path.join(dataDir, 'admin-token'), 'utf8').catch(() => '') : '';
    if (token.trim()) return token.trim();
    if (Date.now() > deadline) throw new Error(`the API did not answer on ${url} within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Starts the service for a run whose logs and journal go to `runDir`. */
export async function startChaosService(options: ChaosOptions, runDir: string): Promise<ChaosService> {
  const postgres = await startPrivatePostgres();
  let redis: PrivateRedis | undefined;
  let dataDir: string | undefined;
  let api: ChildProcess | undefined;
  try {
    redis = await startPrivateRedis();
    const databaseUrl = await createDatabase(postgres.url);
    dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-chaos-data-'));
    const journalFile = path.join(runDir, 'journal.jsonl');
    const port = await freePort();
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      CLUSTERD_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: 'chaos',
      CLUSTERD_BLUEPRINT_MODULES: TEST_BLUEPRINT,
      PULUMI_CONFIG_PASSPHRASE: 'chaos-passphrase-not-secret',
      LOG_LEVEL: 'info',
      WORKER_CONCURRENCY: String(options.workerConcurrency),
      WORKER_LANE_LEASE_MS: String(options.leaseMs),
      WORKER_CANCEL_GRACE_MS: '5000',
      // SIGTERM at the end of the run: what is still running is requeued, not waited for.
      WORKER_SHUTDOWN_GRACE_MS: '5000',
      RECONCILE_INTERVAL_MS: String(options.reconcileMs),
      DRIFT_SWEEP_CRON: 'off',
      CLUSTERD_ENGINE_ENV: JOURNAL_VAR,
      [JOURNAL_VAR]: journalFile,
      HOST: '127.0.0.1',
      PORT: String(port),
    };
    api = spawnService({ ...env, CLUSTERD_ROLE: 'api' }, path.join(runDir, 'api.log'));
    const url = `http://127.0.0.1:${port}`;
    const adminToken = await waitForApi(url, dataDir, 60_000);
    const workers = startWorkerPool(options.workers, env, runDir);
    const [r, d, a] = [redis, dataDir, api];
    return {
      url,
      adminToken,
      dataDir,
      databaseUrl,
      postgres,
      redis,
      workers,
      journalFile,
      journalVar: `${JOURNAL_VAR}=${journalFile}`,
      async stop() {
        await workers.stop(15_000);
        await stopService(a, 10_000);
        await r.stop();
        postgres.stop();
        await rm(d, { recursive: true, force: true });
      },
    };
  } catch (err) {
    if (api) await stopService(api, 5000);
    await redis?.stop();
    postgres.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}
