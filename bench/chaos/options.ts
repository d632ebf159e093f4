/**
 * Settings of a chaos run, from `--name value` / `--name=value` flags or `CHAOS_*` environment
 * variables (a flag wins). Every invalid one is reported at once, as the service's config does.
 */

/** What a chaos run does and how hard it attacks. */
export interface ChaosOptions {
  /** Requests that may start an operation (provisions, updates, inspections, cancels, destroys, hostile ones). At least 2 x clusters. @defaultValue 250 */
  operations: number;
  /** Clusters of the test blueprint, each provisioned first and destroyed last. @defaultValue 20 */
  clusters: number;
  /** Worker processes (SIGKILLed and restarted during the run). @defaultValue 3 */
  workers: number;
  /** WORKER_CONCURRENCY of each worker process. @defaultValue 2 */
  workerConcurrency: number;
  /** Requests in flight at most (concurrent clients). @defaultValue 8 */
  clients: number;
  /** How long requests keep coming and things keep dying. Seconds. @defaultValue 300 */
  durationS: number;
  /** After the load, how long every operation may take to end before the run fails. Seconds. @defaultValue 2400 */
  timeoutS: number;
  /** After the load, how long without any operation ending before the run gives up waiting (something is stuck). Seconds. @defaultValue 600 */
  stallS: number;
  /** Seeds the plan of requests and of attacks, so that a run can be repeated. @defaultValue random */
  seed: number;
  /** WORKER_LANE_LEASE_MS: short, so that take-overs happen during the run. Milliseconds. @defaultValue 5000 */
  leaseMs: number;
  /** RECONCILE_INTERVAL_MS. Milliseconds. @defaultValue 2000 */
  reconcileMs: number;
  /** Shortest wait between two worker kills. Seconds. @defaultValue 6 */
  killMinS: number;
  /** Longest wait between two worker kills. Seconds. @defaultValue 15 */
  killMaxS: number;
  /** How Redis dies once during the run before it is started again on its AOF. @defaultValue SIGKILL */
  redisSignal: 'SIGTERM' | 'SIGKILL';
  /** Where logs, the call journal and the figures go (kept after the run). @defaultValue a new directory under the system temp dir */
  outDir: string | null;
}

interface Spec {
  flag: string;
  env: string;
  parse(raw: string): unknown;
}

const integer =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`must be an integer from ${min} to ${max}`);
    return n;
  };

const SPECS: Record<keyof ChaosOptions, Spec> = {
  operations: { flag: 'operations', env: 'CHAOS_OPERATIONS', parse: integer(2) },
  clusters: { flag: 'clusters', env: 'CHAOS_CLUSTERS', parse: integer(1, 500) },
  workers: { flag: 'workers', env: 'CHAOS_WORKERS', parse: integer(1, 16) },
  workerConcurrency: { flag: 'worker-concurrency', env: 'CHAOS_WORKER_CONCURRENCY', parse: integer(1, 64) },
  clients: { flag: 'clients', env: 'CHAOS_CLIENTS', parse: integer(1, 256) },
  durationS: { flag: 'duration', env: 'CHAOS_DURATION_S', parse: integer(10) },
  timeoutS: { flag: 'timeout', env: 'CHAOS_TIMEOUT_S', parse: integer(10) },
  stallS: { flag: 'stall', env: 'CHAOS_STALL_S', parse: integer(10) },
  seed: { flag: 'seed', env: 'CHAOS_SEED', parse: integer(0, 2 ** 32 - 1) },
  leaseMs: { flag: 'lease-ms', env: 'CHAOS_LEASE_MS', parse: integer(3000) },
  reconcileMs: { flag: 'reconcile-ms', env: 'CHAOS_RECONCILE_MS', parse: integer(1000) },
  killMinS: { flag: 'kill-min', env: 'CHAOS_KILL_MIN_S', parse: integer(1) },
  killMaxS: { flag: 'kill-max', env: 'CHAOS_KILL_MAX_S', parse: integer(1) },
  redisSignal: {
    flag: 'redis-signal',
    env: 'CHAOS_REDIS_SIGNAL',
    parse: (raw) => {
      if (raw !== 'SIGTERM' && raw !== 'SIGKILL') throw new Error('must be SIGTERM or SIGKILL');
      return raw;
    },
  },
  outDir: { flag: 'out', env: 'CHAOS_OUT_DIR', parse: (raw) => raw },
};

const DEFAULTS: Omit<ChaosOptions, 'seed'> = {
  operations: 250,
  clusters: 20,
  workers: 3,
  workerConcurrency: 2,
  clients: 8,
  durationS: 300,
  timeoutS: 2400,
  stallS: 600,
  leaseMs: 5000,
  reconcileMs: 2000,
  killMinS: 6,
  killMaxS: 15,
  redisSignal: 'SIGKILL',
  outDir: null,
};

/** `--name value` and `--name=value` pairs; a flag without a value is an error. */
function flagsOf(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]!);
    if (!m) throw new Error(`unexpected argument "${argv[i]}" (flags look like --operations=240)`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value`);
    flags.set(m[1]!, value);
  }
  return flags;
}

/** The settings of a run; throws one error listing every invalid flag or variable. */
export function parseChaosOptions(argv: string[], env: NodeJS.ProcessEnv, randomSeed: () => number): ChaosOptions {
  const flags = flagsOf(argv);
  const known = new Set(Object.values(SPECS).map((s) => s.flag));
  const problems = [...flags.keys()]
    .filter((f) => !known.has(f))
    .map((f) => `--${f}: is not a chaos flag (known: ${[...known].join(', ')})`);
  const values: Record<string, unknown> = { ...DEFAULTS, seed: undefined };
  for (const [key, spec] of Object.entries(SPECS)) {
    const raw = flags.get(spec.flag) ?? env[spec.env];
    if (raw === undefined || raw === '') continue;
    try {
      values[key] = spec.parse(raw);
    } catch (err) {
      problems.push(`--${spec.flag} (${spec.env}): ${(err as Error).message}`);
    }
  }
  const options = { ...values, seed: values.seed ?? randomSeed() } as ChaosOptions;
  if (options.operations < 2 * options.clusters)
    problems.push(`--operations: must be at least 2 x --clusters (${2 * options.clusters}): every cluster is provisioned and destroyed`);
  if (options.killMaxS < options.killMinS) problems.push('--kill-max: must be at least --kill-min');
  if (problems.length) throw new Error(`invalid chaos settings:\n  ${problems.join('\n  ')}`);
  return options;
}
