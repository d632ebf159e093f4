/**
 * The service process idle, started by `scripts/start.sh` itself (what `npm start` runs, Node flags
 * included): with embedded PGlite records (the start that creates the database, then a later one) and
 * with PostgreSQL records; its resident memory five seconds after it answers /readyz, and its peak.
 * Usage: npm run bench:service-memory   (TEST_DATABASE_URL and TEST_REDIS_URL as the tests have them)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshDatabase, redisUrl, ROOT } from '../test/support/harness.js';
import { freePort } from '../test/support/ports.js';
import { until } from '../test/support/until.js';
import { machineLine } from './support.js';
import { statusMiB } from './tree-rss.js';

const SETTLE_MS = 5000;
const GOALS = { embedded: 300, PostgreSQL: 150 } as const;

/** Resident and peak MiB of one service process, idle `SETTLE_MS` after it is ready. */
async function idleRss(dataDir: string, databaseUrl: string | undefined): Promise<{ rss: number; peak: number }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    CLUSTERD_DATA_DIR: dataDir,
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: `bench-${randomUUID().slice(0, 8)}`,
    LOG_LEVEL: 'warn',
  };
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else delete env.DATABASE_URL;
  // start.sh ends in `exec node`: the script's pid becomes the service's.
  const service = spawn('bash', [path.join(ROOT, 'scripts/start.sh')], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  const gone = new Promise<void>((resolve) => service.once('exit', () => resolve()));
  try {
    await until(
      `the service on port ${port} to be ready`,
      async () => {
        if (service.exitCode !== null) throw new Error(`the service exited with ${service.exitCode} before it was ready`);
        const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
        return ready || undefined;
      },
      120_000,
      100,
    );
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { rss: statusMiB(service.pid!, 'VmRSS'), peak: statusMiB(service.pid!, 'VmHWM') };
  } finally {
    service.kill('SIGTERM');
    await gone;
  }
}

console.log(machineLine('service memory bench'));
// The first start with embedded records creates the database; later ones open it.
for (const [records, starts] of [
  ['embedded', ['first start', 'later start']],
  ['PostgreSQL', ['']],
] as const) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-bench-'));
  const db = await freshDatabase(records === 'embedded' ? 'pglite' : 'auto');
  try {
    for (const start of starts) {
      const { rss, peak } = await idleRss(dataDir, db.url);
      console.log(
        `service process idle ${SETTLE_MS / 1000} s after ready, ${records} records${start && ` (${start})`}: RSS ${rss.toFixed(0)} MiB (peak ${peak.toFixed(0)} MiB), goal <= ${GOALS[records]} MiB`,
      );
    }
  } finally {
    await db.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}
process.exit(0);
