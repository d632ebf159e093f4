import path from 'node:path';
import { z } from 'zod';
import ipaddr from 'ipaddr.js';
import { parseDuration } from './domain/duration.js';
import { parseAllowedHost, parseNetworks } from './webhooks/address-policy.js';
import { parseRateRule } from './limits/rate-rule.js';
import { tracingSettings, type TracingSettings } from './tracing/tracing-settings.js';

const int = (min: number) => z.coerce.number().int().min(min);
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

const duration = (name: string) =>
  z.string().transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === null) ctx.addIssue({ code: 'custom', message: `${name} must be a duration like 90m, 24h or 7d` });
    return ms ?? 0;
  });

/** `sandbox=7d,*=30d` -> { sandbox: 604800000, '*': 2592000000 }. */
const teamDurations = z.string().transform((s, ctx) => {
  const caps: Record<string, number> = {};
  for (const entry of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
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

/** A retention period: a duration like 30d, or `off` (null: kept forever). */
const retention = (name: string) =>
  z.string().transform((s, ctx) => {
    if (s.trim() === 'off') return null;
    const ms = parseDuration(s);
    if (ms === null) ctx.addIssue({ code: 'custom', message: `${name} must be a duration like 30d, 24h or 90m, or off` });
    return ms ?? 0;
  });

/** `count/duration` (`30/1m`) or `off`, with the default given as text. */
const rateRule = (name: string, fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const rule = parseRateRule(s);
      if (rule === undefined) ctx.addIssue({ code: 'custom', message: `${name} must be count/duration like 30/1m or 5/1h, or off` });
      return rule ?? null;
    });

/** An OTLP/HTTP endpoint. */
const otlpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL (OTLP over HTTP)' });
/** Headers (credentials, often): whether they are given, never their value. */
const headersGiven = z
  .string()
  .transform(() => true as const)
  .optional();
const otlpProtocol = z
  .literal('http/protobuf', { error: 'must be http/protobuf: the service exports traces over OTLP/HTTP with protobuf (port 4318)' })
  .optional();

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Express `trust proxy`: a hop count, or a list of addresses, CIDRs and named ranges; never `true` (any client could then pick its address). */
const trustProxy = z.string().transform((s, ctx): number | string[] | false => {
  if (/^\d{1,2}$/.test(s.trim())) return Number(s.trim()) || false;
  const entries = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const e of entries) {
    if (PROXY_NAMES.has(e) || ipaddr.isValid(e) || isCidr(e)) continue;
    ctx.addIssue({ code: 'custom', message: `"${e}" must be a hop count, an address, a CIDR, or one of loopback, linklocal, uniquelocal` });
  }
  return entries.length ? entries : false;
});

function isCidr(text: string): boolean {
  try {
    ipaddr.parseCIDR(text);
    return true;
  } catch {
    return false;
  }
}

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
  /**
   * A second listener on HOST for `/metrics`, `/healthz` and `/readyz`, in every role: how a worker
   * is probed and scraped, and how an API keeps its metrics off its public port. Unset: the API
   * serves `/metrics` on PORT (no token needed) and a worker process serves none; 0 picks a free port.
   */
  METRICS_PORT: int(0).max(65535).optional(),
  /**
   * A file holding the first admin token (a mounted Secret): created at start when no token has its
   * value, instead of a new one written to the data directory. Never revived once revoked.
   */
  CLUSTERD_ADMIN_TOKEN_FILE: z.string().min(1).optional(),
  /** Where the embedded record store, the file:// state backend, the passphrase and workspaces live. @defaultValue ./.clusterd-data */
  CLUSTERD_DATA_DIR: z.string().default('.clusterd-data'),
  /** PostgreSQL URL for the records; unset means embedded PGlite in the data directory. */
  DATABASE_URL: z.string().url().optional(),
  /** Redis holding the queue. @defaultValue redis://127.0.0.1:6379 */
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  /** A PEM file of the authority that signed the Redis server's certificate, for a `rediss://` REDIS_URL with a private CA. */
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  /**
   * Prefix of every Redis key, so that several deployments can share one Redis. On Redis Cluster, wrap
   * it in braces (`{clusterd}`): a hash tag puts every key of the service in one slot, as BullMQ's
   * scripts need. @defaultValue clusterd
   */
  QUEUE_PREFIX: z
    .string()
    .regex(
      /^(\{[A-Za-z0-9:_-]+\}|[A-Za-z0-9:_-]+)$/,
      'must be letters, digits, :, _ and -, or such a name in braces ({clusterd}) for Redis Cluster',
    )
    .default('clusterd'),
  /** Pulumi state backend (file://, s3://, gs://, azblob://, postgres://, https://api.pulumi.com). @defaultValue file://<data dir>/state */
  PULUMI_BACKEND_URL: z.string().optional(),
  /** Secrets provider for new stacks: `passphrase` or a KMS URL (awskms://, gcpkms://, azurekeyvault://, hashivault://). @defaultValue passphrase */
  CLUSTERD_SECRETS_PROVIDER: z.string().default('passphrase'),
  /**
   * Key sealing blueprints' write-only spec fields in the records: 32 bytes in base64 (`openssl rand -base64 32`).
   * Unset means one generated once into <data dir>/records-key (mode 0600); processes on several machines sharing
   * DATABASE_URL must be given the same key.
   */
  CLUSTERD_RECORDS_KEY: z.string().min(1).optional(),
  /** Passphrase for the passphrase provider; unset means one generated once into <data dir>/passphrase (mode 0600). */
  PULUMI_CONFIG_PASSPHRASE: z.string().min(1).optional(),
  /** Operations run at once by one worker process (different clusters). @defaultValue 2 */
  WORKER_CONCURRENCY: int(1).max(64).default(2),
  /** How long a worker's hold on a cluster lasts without renewal; renewed every sixth of it while held; a holder that cannot renew for half of it stops its engine. @defaultValue 30000 */
  WORKER_LANE_LEASE_MS: int(3000).default(30_000),
  /** Job processes each worker keeps started ahead, so that an operation does not wait for one to start (each still runs one operation). 0: none. @defaultValue 1 */
  WORKER_SPARE_CHILDREN: int(0).max(16).default(1),
  /** After a graceful cancel is asked of the engine, how long before the job's process group is killed. @defaultValue 20000 */
  WORKER_CANCEL_GRACE_MS: int(1000).default(20_000),
  /**
   * Where the job's Node processes (its child, dynamic-provider plugins) keep Node's compile cache, so that each
   * fresh process does not compile @pulumi/pulumi and the blueprints again; `off` to compile every time.
   * @defaultValue <CLUSTERD_DATA_DIR>/node-compile-cache
   */
  WORKER_COMPILE_CACHE: z.string().min(1).optional(),
  /** On SIGTERM, how long running operations may take to finish before they are cancelled and requeued. @defaultValue 60000 */
  WORKER_SHUTDOWN_GRACE_MS: int(0).default(60_000),
  // --- shutdown in order, and an expiry watch nothing can block ---
  /**
   * On SIGTERM/SIGINT, how long the API keeps accepting new connections after `/readyz` turned 503
   * (`draining`), so that load balancers stop sending before the listener closes (a preStop-like
   * delay). Milliseconds, 0-600000. @defaultValue 0
   */
  HTTP_SHUTDOWN_DELAY_MS: int(0).max(600_000).default(0),
  /**
   * Once the listener is closed, how long requests in flight may take to finish; at its end open
   * event streams are told to reconnect and ended, and any connection left is closed. Milliseconds,
   * 0-600000. @defaultValue 20000 (the longest ordinary request, a kubeconfig read, times out at 20 s)
   */
  HTTP_SHUTDOWN_GRACE_MS: int(0).max(600_000).default(20_000),
  /** Clusters the expiry watch reads per statement; a pass pages through everything due. 1-10000. @defaultValue 500 */
  EXPIRY_BATCH_SIZE: int(1).max(10_000).default(500),
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
  /** Networks webhooks may reach although internal (loopback, private, link-local, ULA), comma-separated CIDRs or single addresses, e.g. `10.20.0.0/16,fd00:1::/64`. Unspecified, broadcast and multicast stay refused. @defaultValue empty: public unicast only */
  WEBHOOK_ALLOWED_NETWORKS: list
    .superRefine((entries, ctx) => {
      for (const entry of entries) {
        try {
          parseNetworks([entry]);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }
    })
    .default([]),
  /** Host names webhooks may reach whatever they resolve to, comma-separated, matched exactly (no subdomains; punycode for IDNs). @defaultValue empty */
  WEBHOOK_ALLOWED_HOSTS: list
    .transform((entries, ctx) =>
      entries.map((entry) => {
        try {
          return parseAllowedHost(entry);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
          return entry;
        }
      }),
    )
    .default([]),
  /** Deliveries one worker process sends at once to one receiver (scheme, host and port); a delivery over it waits, without counting an attempt. @defaultValue a quarter of WEBHOOK_CONCURRENCY, at least 1 */
  WEBHOOK_RECEIVER_MAX_IN_FLIGHT: int(1).max(64).optional(),
  /** Deliveries one worker process sends at once to one team's subscriptions (an admin's all-teams ones count as one team). @defaultValue half of WEBHOOK_CONCURRENCY, at least 1 */
  WEBHOOK_TEAM_MAX_IN_FLIGHT: int(1).max(64).optional(),
  /**
   * Extra environment variables the job's processes (the Pulumi CLI and provider plugins) may see,
   * comma-separated names or prefixes ending in `*`, beyond the built-in list (PATH, HOME, locale,
   * proxies and CA bundles, PULUMI_*, AWS_*, GOOGLE_*, CLOUDSDK_*, ARM_*, AZURE_*, KUBECONFIG). Empty by default.
   */
  CLUSTERD_ENGINE_ENV: list.default([]),
  /** Extra blueprint modules, comma-separated paths (absolute or relative to the working directory). */
  CLUSTERD_BLUEPRINT_MODULES: list.default([]),
  /** Pulumi policy pack directories (comma-separated) that every preview, update and drift check runs; see docs/guardrails.md. */
  CLUSTERD_POLICY_PACKS: list.default([]),
  /** One policy pack config file (JSON) per pack of CLUSTERD_POLICY_PACKS, in the same order; empty: every pack on its defaults. */
  CLUSTERD_POLICY_PACK_CONFIGS: list.default([]),
  /** Largest accepted request body. @defaultValue 65536 */
  MAX_BODY_BYTES: int(1024).default(65_536),
  /** Deepest nesting of arrays and objects in a JSON request body, the top-level value being level 1 (400 above); bounds every recursive walk of a body. @defaultValue 32 */
  MAX_BODY_DEPTH: int(8).max(256).default(32),
  /** When the fleet drift sweep runs: a cron pattern, or `off`. @defaultValue 0 3 * * * (nightly at 03:00) */
  DRIFT_SWEEP_CRON: z
    .string()
    .regex(/^(off|(\S+\s+){4,5}\S+)$/, 'must be a cron pattern of 5 or 6 fields, or off')
    .default('0 3 * * *'),
  /** Time zone of DRIFT_SWEEP_CRON. @defaultValue UTC */
  DRIFT_SWEEP_TIMEZONE: timezone.default('UTC'),
  /** Drift checks a sweep keeps queued or running at once, fleet-wide; keep it below the workers' total concurrency so that people's operations always find a free slot. @defaultValue 2 */
  DRIFT_MAX_CONCURRENT_CHECKS: int(1).max(256).default(2),
  /** How often a sweep looks at its checks and at busy clusters (a finished check's slot waits for this). @defaultValue 250 */
  DRIFT_SWEEP_POLL_MS: int(50).default(250),
  /** How long a sweep keeps coming back to a cluster busy with other operations before skipping it. @defaultValue 1800000 (30 min) */
  DRIFT_SWEEP_BUSY_WAIT_MS: int(0).default(1_800_000),
  /** How often a worker drives the unfinished rollouts (a finished member's slot waits for this). @defaultValue 1000 */
  ROLLOUT_DRIVER_INTERVAL_MS: int(50).max(60_000).default(1_000),
  /** How long a worker's claim on driving a rollout lasts without renewal; another worker takes it over after. @defaultValue 30000 */
  ROLLOUT_DRIVER_LEASE_MS: int(1_000).max(3_600_000).default(30_000),
  /** Longest life of a cluster per team (`team=duration`, `*` for every other team), e.g. `sandbox=7d,*=30d`; a capped team's clusters expire at the cap by default. Empty: no cap. */
  CLUSTER_MAX_TTL: teamDurations.default({}),
  /** When before expiry the `cluster.expiring` webhook goes out, comma-separated durations. @defaultValue 24h,1h */
  EXPIRY_WARNINGS: z
    .string()
    .default('24h,1h')
    .pipe(
      z.string().transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    )
    .pipe(z.array(duration('EXPIRY_WARNINGS'))),
  /** How long an operation waits for approval (see a team policy's `approval`) before it ends `failed` (approval-expired). @defaultValue 24h */
  APPROVAL_TTL: z.string().default('24h').pipe(duration('APPROVAL_TTL')),
  /** How often workers look for operations whose wait for approval has expired. @defaultValue 30000 */
  APPROVAL_CHECK_INTERVAL_MS: int(100).default(30_000),
  /** How often workers look for clusters to warn about or destroy. @defaultValue 30000 */
  EXPIRY_CHECK_INTERVAL_MS: int(100).default(30_000),
  /** Days before the end of a version's standard support at which the `cluster.support-ending` webhook goes out, comma-separated. @defaultValue 60,30,7 */
  SUPPORT_WARNING_DAYS: z
    .string()
    .default('60,30,7')
    .pipe(
      z.string().transform((s) =>
        s
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
      ),
    )
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^\d{1,4}$/, 'SUPPORT_WARNING_DAYS: must be whole days, comma-separated')
            .transform(Number),
        )
        .max(20),
    ),
  /** How often workers compare the fleet's versions with the support calendars. @defaultValue 3600000 (1 h) */
  SUPPORT_CHECK_INTERVAL_MS: int(100).default(3_600_000),
  /** How often each worker process removes records past their retention (one pass at a time per process). @defaultValue 900000 (15 min) */
  RETENTION_INTERVAL_MS: int(1000).default(900_000),
  /** Most rows one retention statement removes; each batch is its own short statement. @defaultValue 500 */
  RETENTION_BATCH_SIZE: int(1).max(10_000).default(500),
  /** Pause between two retention batches, so that other work gets the tables. @defaultValue 100 */
  RETENTION_BATCH_PAUSE_MS: int(0).max(60_000).default(100),
  /** Events of operations finished longer ago than this are removed; `off` keeps them. @defaultValue 30d */
  RETENTION_OPERATION_EVENTS: z.string().default('30d').pipe(retention('RETENTION_OPERATION_EVENTS')),
  /** The copy of the spec on operations finished longer ago than this is dropped (the cluster keeps its specs); `off` keeps it. @defaultValue 30d */
  RETENTION_OPERATION_SPECS: z.string().default('30d').pipe(retention('RETENTION_OPERATION_SPECS')),
  /** An Idempotency-Key is answered from its record for this long after its answer, then is free again and removed; `off` keeps keys. @defaultValue 24h */
  RETENTION_IDEMPOTENCY_KEYS: z.string().default('24h').pipe(retention('RETENTION_IDEMPOTENCY_KEYS')),
  /** Webhook deliveries settled (succeeded or failed) longer ago than this are removed with their attempts; `off` keeps them. @defaultValue 30d */
  RETENTION_WEBHOOK_DELIVERIES: z.string().default('30d').pipe(retention('RETENTION_WEBHOOK_DELIVERIES')),
  /** Drift reports checked and sweeps finished longer ago than this are removed, except each live cluster's latest report; `off` keeps them. @defaultValue 90d */
  RETENTION_DRIFT_HISTORY: z.string().default('90d').pipe(retention('RETENTION_DRIFT_HISTORY')),
  /** Kubeconfig reads (an audit log) older than this are removed; `off` keeps them. @defaultValue 365d */
  RETENTION_KUBECONFIG_READS: z.string().default('365d').pipe(retention('RETENTION_KUBECONFIG_READS')),
  /** pino log level. @defaultValue info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // --- one team cannot slow another: event streams, kubeconfig reads, rate limits ---
  /** Event streams one token may hold open at once in one API process; beyond it 429. @defaultValue 20 */
  STREAMS_MAX_PER_TOKEN: int(1).max(100_000).default(20),
  /** Event streams one API process holds open at once, all tokens together; beyond it 429. @defaultValue 1000 */
  STREAMS_MAX_PER_PROCESS: int(1).max(100_000).default(1000),
  /** How often an API process looks again, in one query, at every operation it streams, in case a notification was lost. @defaultValue 5000 */
  STREAMS_RECHECK_MS: int(100).max(600_000).default(5000),
  /** Quiet time after which a stream gets a keep-alive comment, so that proxies keep it open. @defaultValue 15000 */
  STREAMS_KEEPALIVE_MS: int(1000).max(600_000).default(15_000),
  /** Kubeconfig reads from the state (Pulumi CLI processes) one API process runs at once; more wait their turn, teams in turn. @defaultValue 2 */
  KUBECONFIG_MAX_CONCURRENT_READS: int(1).max(64).default(2),
  /** Longest a kubeconfig request waits for a read slot and the read together; past it 503 with Retry-After, and a running read is killed. @defaultValue 20000 */
  KUBECONFIG_READ_TIMEOUT_MS: int(100).max(600_000).default(20_000),
  /** How long a kubeconfig read from the state is handed to later requests for the same cluster (unchanged since), from memory only; 0 keeps nothing (concurrent requests still share one read). @defaultValue 5000 */
  KUBECONFIG_CACHE_MS: int(0).max(300_000).default(5000),
  /** Failed authentications per client address, `count/duration` (e.g. 30/1m) or `off`; beyond it failures answer 429. @defaultValue 30/1m */
  RATE_LIMIT_AUTH_FAILURES: rateRule('RATE_LIMIT_AUTH_FAILURES', '30/1m'),
  /** Webhook test pings (POST /v1/webhooks/{id}/test) per token, `count/duration` or `off`. @defaultValue 10/1m */
  RATE_LIMIT_WEBHOOK_TESTS: rateRule('RATE_LIMIT_WEBHOOK_TESTS', '10/1m'),
  /** Manual drift sweeps (POST /v1/drift/sweeps) per token, `count/duration` or `off`. @defaultValue 5/1h */
  RATE_LIMIT_DRIFT_SWEEPS: rateRule('RATE_LIMIT_DRIFT_SWEEPS', '5/1h'),
  /** Longest a rate-limit check waits for Redis before the process counts in its own memory. @defaultValue 500 */
  RATE_LIMIT_REDIS_TIMEOUT_MS: int(10).max(10_000).default(500),
  /** Proxies whose X-Forwarded-For names the client (per-address limits): a hop count, or comma-separated addresses, CIDRs, `loopback`, `linklocal`, `uniquelocal`. @defaultValue 0 (none: the peer of the socket is the client) */
  TRUST_PROXY: trustProxy.default(false),
  // --- traces (OpenTelemetry's standard variables), off unless an exporter or an endpoint is named ---
  /** `true` keeps tracing off whatever else is set. @defaultValue false */
  OTEL_SDK_DISABLED: z
    .string()
    .transform((s) => s.trim().toLowerCase() === 'true')
    .optional(),
  /** `otlp` turns tracing on (OTLP/HTTP, protobuf); `none` keeps it off. Unset: on when an OTLP endpoint is set. */
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none'], { error: 'must be otlp or none: the service exports traces over OTLP/HTTP only' })
    .optional(),
  /** Base URL of the OTLP/HTTP receiver (`/v1/traces` is appended); setting it turns tracing on. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl.optional(),
  /** Full URL of the OTLP/HTTP traces receiver, used as it is; setting it turns tracing on. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl.optional(),
  /** Only `http/protobuf`, the specification's default. */
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol,
  /** Only `http/protobuf`, the specification's default. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol,
  /**
   * Headers of every export (`key=value,...`), read by the exporter itself: only whether it is set is
   * kept here. When set, the Pulumi CLI exports no spans unless CLUSTERD_ENGINE_OTEL_TRACES says where.
   */
  OTEL_EXPORTER_OTLP_HEADERS: headersGiven,
  /** As OTEL_EXPORTER_OTLP_HEADERS, for traces only. */
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: headersGiven,
  /** `service.name` of the spans. @defaultValue the `service.name` of OTEL_RESOURCE_ATTRIBUTES, else clusterd */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** More resource attributes of the spans (`key=value,...`), read by the SDK; only its `service.name` is read here. */
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  /**
   * Where each job's Pulumi CLI sends its own spans (its `--otel-traces`) when tracing is on:
   * grpc://, grpcs://, http://, https:// (protobuf), or file://<directory> (each CLI process writes its
   * own OTLP JSON file there); `off` for none. @defaultValue the OTLP traces endpoint, unless headers are set
   */
  CLUSTERD_ENGINE_OTEL_TRACES: z
    .string()
    .regex(
      /^(off|file:\/\/\/\S*|(grpc|grpcs|http|https):\/\/\S+)$/,
      'must be file:///<absolute directory>, or a grpc://, grpcs://, http:// or https:// URL, or off',
    )
    .optional(),
});

const ROLE_KEYS = { CLUSTERD_ROLE: true, DATABASE_URL: true } as const;
const SHARED_KEYS = {
  CLUSTERD_ROLE: true,
  PULUMI_BACKEND_URL: true,
  CLUSTERD_SECRETS_PROVIDER: true,
  PULUMI_CONFIG_PASSPHRASE: true,
  CLUSTERD_RECORDS_KEY: true,
} as const;

/** Split roles over a backend other machines can reach (anything but a local `file://` directory). */
const sharedBackend = (c: { CLUSTERD_ROLE: string; PULUMI_BACKEND_URL?: string | undefined }) =>
  c.CLUSTERD_ROLE !== 'all' && c.PULUMI_BACKEND_URL !== undefined && !c.PULUMI_BACKEND_URL.startsWith('file://');

// Embedded PGlite serves one process, so separate api and worker processes would each open their own records.
// `when`: reported alongside every other invalid key, as long as these two parse.
const configSchema = schema
  .refine((c) => c.CLUSTERD_ROLE === 'all' || c.DATABASE_URL !== undefined, {
    path: ['CLUSTERD_ROLE'],
    error: (issue) =>
      `CLUSTERD_ROLE=${(issue.input as { CLUSTERD_ROLE?: string }).CLUSTERD_ROLE} needs DATABASE_URL: api and worker processes share their records ` +
      'through PostgreSQL (the embedded PGlite store serves one process; run CLUSTERD_ROLE=all to use it)',
    when: (payload) => schema.pick(ROLE_KEYS).safeParse(payload.value).success,
  })
  // Separate api and worker processes with a state backend they can share may run on several machines:
  // a passphrase or a records key generated into one machine's data directory would open nothing on another.
  .refine((c) => !sharedBackend(c) || c.CLUSTERD_SECRETS_PROVIDER !== 'passphrase' || c.PULUMI_CONFIG_PASSPHRASE !== undefined, {
    path: ['PULUMI_CONFIG_PASSPHRASE'],
    error: (issue) =>
      `CLUSTERD_ROLE=${(issue.input as { CLUSTERD_ROLE?: string }).CLUSTERD_ROLE} with a shared state backend (PULUMI_BACKEND_URL) needs ` +
      'PULUMI_CONFIG_PASSPHRASE, the same in every process (or a KMS in CLUSTERD_SECRETS_PROVIDER): one generated into this data directory would open no stack on another machine',
    when: (payload) => schema.pick(SHARED_KEYS).safeParse(payload.value).success,
  })
  .refine((c) => !sharedBackend(c) || c.CLUSTERD_RECORDS_KEY !== undefined, {
    path: ['CLUSTERD_RECORDS_KEY'],
    error: (issue) =>
      `CLUSTERD_ROLE=${(issue.input as { CLUSTERD_ROLE?: string }).CLUSTERD_ROLE} with a shared state backend (PULUMI_BACKEND_URL) needs ` +
      'CLUSTERD_RECORDS_KEY, the same in every process: one generated into this data directory would open no sealed spec field written on another machine',
    when: (payload) => schema.pick(SHARED_KEYS).safeParse(payload.value).success,
  })
  .refine((c) => c.REDIS_TLS_CA_FILE === undefined || c.REDIS_URL.startsWith('rediss://'), {
    path: ['REDIS_TLS_CA_FILE'],
    error: 'REDIS_TLS_CA_FILE applies to Redis over TLS: REDIS_URL must then start with rediss://',
    when: (payload) => schema.pick({ REDIS_URL: true, REDIS_TLS_CA_FILE: true }).safeParse(payload.value).success,
  });

export type Config = z.infer<typeof schema> & {
  dataDir: string;
  backendUrl: string;
  compileCacheDir: string | null;
  /** Null: tracing is off. */
  tracing: TracingSettings | null;
};

/** Parses the environment; throws one error listing every invalid key. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid configuration:\n${lines.join('\n')}`);
  }
  const c = result.data;
  const dataDir = path.resolve(c.CLUSTERD_DATA_DIR);
  const compileCache = c.WORKER_COMPILE_CACHE ?? path.join(dataDir, 'node-compile-cache');
  return {
    ...c,
    dataDir,
    backendUrl: c.PULUMI_BACKEND_URL ?? `file://${path.join(dataDir, 'state')}`,
    compileCacheDir: compileCache === 'off' ? null : path.resolve(compileCache),
    tracing: tracingSettings(c),
  };
}
