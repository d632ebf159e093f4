import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './domain/duration.js';

const int = (min: number) => z.coerce.number().int().min(min);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

const duration = (name: string) =>
  z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === null) ctx.addIssue({ code: 'custom', message: `${name} must be a duration like 90m, 24h or 7d` });
    return ms ?? 0;
  });

/** `sandbox=7d,*=30d` -> { sandbox: 604800000, '*': 2592000000 }. */
const teamDurations = z.string().transform((s, ctx) => {
  const caps: Record<string, number> = {};
  for (const entry of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [team, text] = entry.split('=');
    const ms = text === undefined ? null : parseDuration(text);
    if (!team || !/^(\*|[a-z][a-z0-9-]{0,62})$/.test(team) || ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${entry}" must be team=duration (team a team name or *, duration like 7d)` });
      continue;
    }
    caps[team] = ms;
  }
  return caps;
});

const timezone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'must be an IANA time zone such as UTC or Europe/Paris');

/**
 * Every environment variable the service reads, parsed once at start.
 * Units are in the names; every invalid key is reported together.
 */
const schema = z.object({
  /** Which parts run in this process. @defaultValue all */
  CLUSTERD_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  /** HTTP listen address. @defaultValue 127.0.0.1 */
  HOST: z.string().default('127.0.0.1'),
  /** HTTP port; 0 picks a free one. @defaultValue 8080 */
  PORT: int(0).max(65535).default(8080),
  /** Where the embedded record store, the file:// state backend, the passphrase and workspaces live. @defaultValue ./.clusterd-data */
  CLUSTERD_DATA_DIR: z.string().default('.clusterd-data'),
  /** PostgreSQL URL for the records; unset means embedded PGlite in the data directory. */
  DATABASE_URL: z.string().url().optional(),
  /** Redis holding the queue. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** Prefix of every Redis key, so that several deployments can share one Redis. @defaultValue clusterd */
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9:_-]+$/).default('clusterd'),
  /** Pulumi state backend (file://, s3://, gs://, azblob://, postgres://, https://api.pulumi.com). @defaultValue file://<data dir>/state */
  PULUMI_BACKEND_URL: z.string().optional(),
  /** Secrets provider for new stacks: `passphrase` or a KMS URL (awskms://, gcpkms://, azurekeyvault://, hashivault://). @defaultValue passphrase */
  CLUSTERD_SECRETS_PROVIDER: z.string().default('passphrase'),
  /** Passphrase for the passphrase provider; unset means one generated once into <data dir>/passphrase (mode 0600). */
  PULUMI_CONFIG_PASSPHRASE: z.string().min(1).optional(),
  /** Operations run at once by one worker process (different clusters). @defaultValue 2 */
  WORKER_CONCURRENCY: int(1).max(64).default(2),
  /** How long a worker's hold on a cluster lasts without renewal; renewed every third of it. @defaultValue 30000 */
  WORKER_LANE_LEASE_MS: int(3000).default(30_000),
  /** After a graceful cancel is asked of the engine, how long before the job's process group is killed. @defaultValue 20000 */
  WORKER_CANCEL_GRACE_MS: int(1000).default(20_000),
  /** On SIGTERM, how long running operations may take to finish before they are cancelled and requeued. @defaultValue 60000 */
  WORKER_SHUTDOWN_GRACE_MS: int(0).default(60_000),
  /** How often queued work without a job is found and queued again (Redis lost data, crash between record and queue). @defaultValue 15000 */
  RECONCILE_INTERVAL_MS: int(1000).default(15_000),
  /** How long one webhook delivery attempt waits for the receiver's answer. @defaultValue 10000 */
  WEBHOOK_TIMEOUT_MS: int(100).max(120_000).default(10_000),
  /** Attempts of one delivery (the first included) before it ends `failed`. @defaultValue 8 */
  WEBHOOK_MAX_ATTEMPTS: int(1).max(30).default(8),
  /** Delay before the first retry of a delivery; each later retry waits twice the one before. @defaultValue 10000 */
  WEBHOOK_BACKOFF_MS: int(1).default(10_000),
  /** Deliveries one worker process sends at once. @defaultValue 4 */
  WEBHOOK_CONCURRENCY: int(1).max(64).default(4),
  /** Extra blueprint modules, comma-separated paths (absolute or relative to the working directory). */
  CLUSTERD_BLUEPRINT_MODULES: list.default([]),
  /** Largest accepted request body. @defaultValue 65536 */
  MAX_BODY_BYTES: int(1024).default(65_536),
  /** Deepest nesting of arrays and objects in a JSON request body, the top-level value being level 1 (400 above); bounds every recursive walk of a body. @defaultValue 32 */
  MAX_BODY_DEPTH: int(8).max(256).default(32),
  /** When the fleet drift sweep runs: a cron pattern, or `off`. @defaultValue 0 3 * * * (nightly at 03:00) */
  DRIFT_SWEEP_CRON: z.string().regex(/^(off|(\S+\s+){4,5}\S+)$/, 'must be a cron pattern of 5 or 6 fields, or off').default('0 3 * * *'),
  /** Time zone of DRIFT_SWEEP_CRON. @defaultValue UTC */
  DRIFT_SWEEP_TIMEZONE: timezone.default('UTC'),
  /** Drift checks a sweep keeps queued or running at once, fleet-wide; keep it below the workers' total concurrency so that people's operations always find a free slot. @defaultValue 2 */
  DRIFT_MAX_CONCURRENT_CHECKS: int(1).max(256).default(2),
  /** How often a sweep looks at its checks and at busy clusters (a finished check's slot waits for this). @defaultValue 250 */
  DRIFT_SWEEP_POLL_MS: int(50).default(250),
  /** How long a sweep keeps coming back to a cluster busy with other operations before skipping it. @defaultValue 1800000 (30 min) */
  DRIFT_SWEEP_BUSY_WAIT_MS: int(0).default(1_800_000),
  /** Longest life of a cluster per team (`team=duration`, `*` for every other team), e.g. `sandbox=7d,*=30d`; a capped team's clusters expire at the cap by default. Empty: no cap. */
  CLUSTER_MAX_TTL: teamDurations.default({}),
  /** When before expiry the `cluster.expiring` webhook goes out, comma-separated durations. @defaultValue 24h,1h */
  EXPIRY_WARNINGS: z.string().default('24h,1h').pipe(z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean))).pipe(z.array(duration('EXPIRY_WARNINGS'))),
  /** How often workers look for clusters to warn about or destroy. @defaultValue 30000 */
  EXPIRY_CHECK_INTERVAL_MS: int(100).default(30_000),
  /** pino log level. @defaultValue info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema> & { dataDir: string; backendUrl: string };

/** Parses the environment; throws one error listing every invalid key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = result.data;
  const dataDir = path.resolve(c.CLUSTERD_DATA_DIR);
  return { ...c, dataDir, backendUrl: c.PULUMI_BACKEND_URL ?? `file://${path.join(dataDir, 'state')}` };
}
