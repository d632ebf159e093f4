/**
 * The service process idle: started as `npm start` starts it (scripts/start.sh: the compiled service,
 * its Node flags, --liftoff-only with embedded records), once with embedded PGlite records and once
 * with PostgreSQL records, then its resident memory read five seconds after it answers /readyz, and
 * its peak until then.
 * Usage: npm run bench:service-memory   (TEST_DATABASE_URL and TEST_REDIS_URL as the tests have them)
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { redisUrl, SERVICE_MAIN } from '../test/support/harness.js';
import { freePort } from '../test/support/ports.js';
import { machineLine } from './support.js';

const SETTLE_MS = 5000;
const GOALS = { embedded: 300, PostgreSQL: 150 } as const;

const status = (pid: number, field: string) =>
  Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function untilReady(url: string, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && !exited()) {
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the service at ${url} never became ready`);
}

/** Resident and peak MiB of one service process, idle `SETTLE_MS` after it is ready. */
async function idleRss(records: keyof typeof GOALS, dataDir: string): Promise<{ rss: number; peak: number }> {
  const database = `clusterd_b_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  let databaseUrl: string | undefined;
  if (records === 'PostgreSQL') {
    await admin((c) => c.query(`CREATE DATABASE ${database}`));
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${database}`;
    databaseUrl = url.toString();
  }
  const port = await freePort();
  const [flags, main] = [SERVICE_MAIN.slice(0, -1), SERVICE_MAIN.at(-1)!];
  const child = spawn(process.execPath, [...flags, ...(databaseUrl ? [] : ['--liftoff-only', '--expose-gc']), main], {
    env: {
      ...process.env,
      PORT: String(port),
      CLUSTERD_DATA_DIR: dataDir,
      REDIS_URL: redisUrl(),
      QUEUE_PREFIX: `bench-${randomUUID().slice(0, 8)}`,
      LOG_LEVEL: 'warn',
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => ((exited = true), resolve())));
  try {
    await untilReady(`http://127.0.0.1:${port}`, () => exited);
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { rss: status(child.pid!, 'VmRSS'), peak: status(child.pid!, 'VmHWM') };
  } finally {
    child.kill('SIGTERM');
    await gone;
    if (databaseUrl) await admin((c) => c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`));
  }
}

console.log(machineLine('service memory bench'));
// The first start with embedded records creates the database; later ones open it.
for (const [records, starts] of [
  ['embedded', ['first start', 'later start']],
  ['PostgreSQL', ['']],
] as const) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-bench-'));
  for (const start of starts) {
    const { rss, peak } = await idleRss(records, dataDir);
    console.log(
      `service process idle ${SETTLE_MS / 1000} s after ready, ${records} records${start && ` (${start})`}: RSS ${rss.toFixed(0)} MiB (peak ${peak.toFixed(0)} MiB), goal <= ${GOALS[records]} MiB`,
    );
  }
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(0);
