import path from 'node:path';
import { z } from 'zod';

const int = (min: number) => z.coerce.number().int().min(min);
const list = z
  .string()
  .transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));

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
