import { rmSync, constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { ensureGeneratedSecret } from '../secrets/generated-secret.js';

/** The parts of the service configuration the Pulumi CLI environment is built from. */
export interface PulumiEnvInput {
  /** The service's data directory (absolute); PULUMI_HOME lives under it. */
  dataDir: string;
  /** State backend URL, e.g. `file:///abs/dir` or `s3://bucket`. */
  backendUrl: string;
  /** `passphrase` or a KMS URL; only `passphrase` points the CLI at a passphrase file. */
  secretsProvider: string;
  /** A file (mode 0600) holding the passphrase; required when `secretsProvider` is `passphrase`. */
  passphraseFile?: string;
  /** Directory holding the `pulumi` binary; prepended to PATH when given (see scripts/ensure-pulumi.sh). */
  cliDir?: string;
  /** PATH to extend. @defaultValue process.env.PATH */
  basePath?: string;
  /** Node's compile cache for the job's Node processes (NODE_COMPILE_CACHE), or none. */
  compileCacheDir?: string | null;
  /** Directory of our dynamic-provider plugin launcher (see dynamic-provider-launcher.ts); put on PATH before the SDK's. */
  launcherDir?: string;
}

/** Environment variables for every Pulumi CLI invocation; names the passphrase file, never holds the passphrase. */
export type PulumiEnv = Record<string, string>;

const require = createRequire(import.meta.url);

/** Directory of the installed @pulumi/pulumi package, which ships the `pulumi-resource-pulumi-nodejs` plugin. */
export function pulumiPackageDir(): string {
  return path.dirname(require.resolve('@pulumi/pulumi/package.json'));
}

/** The node_modules directory @pulumi/pulumi was installed into. */
export function nodeModulesDir(): string {
  // <node_modules>/@pulumi/pulumi -> <node_modules>
  return path.dirname(path.dirname(pulumiPackageDir()));
}

/**
 * Builds the environment for the Pulumi CLI.
 *
 * Dynamic providers (the `local-files` test blueprint, and any blueprint that uses
 * `pulumi.dynamic.Resource`) run through the `pulumi-resource-pulumi-nodejs` plugin: a shell script
 * that the CLI finds on PATH and that runs `node -e "require.resolve('@pulumi/pulumi/...')"` from the
 * stack's work directory. Work directories need not sit inside the repository, so instead of
 * symlinking node_modules into them we set NODE_PATH to the node_modules that holds @pulumi/pulumi:
 * CommonJS resolution (the plugin script and the serialized provider code are CommonJS) consults it
 * after the directory walk fails.
 */
export function buildPulumiEnv(input: PulumiEnvInput): PulumiEnv {
  const env: PulumiEnv = {
    PULUMI_BACKEND_URL: input.backendUrl,
    PULUMI_HOME: path.join(input.dataDir, 'pulumi-home'),
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: 'true',
    // Colours would end up in logs and errors.
    NO_COLOR: '1',
    NODE_PATH: [nodeModulesDir(), process.env.NODE_PATH].filter(Boolean).join(path.delimiter),
    PATH: [input.cliDir, input.launcherDir, pulumiPackageDir(), input.basePath ?? process.env.PATH ?? '']
      .filter(Boolean)
      .join(path.delimiter),
  };
  // Every dynamic-provider plugin is a fresh Node process that loads @pulumi/pulumi: about half a second of
  // compiling per operation without the cache. The job's child fills the cache (the plugin is killed, never flushes).
  if (input.compileCacheDir) env.NODE_COMPILE_CACHE = input.compileCacheDir;
  if (input.secretsProvider === 'passphrase') {
    if (!input.passphraseFile) throw new Error('a passphrase file is required for the passphrase secrets provider');
    // A file, not PULUMI_CONFIG_PASSPHRASE: every provider plugin inherits the CLI's environment.
    env.PULUMI_CONFIG_PASSPHRASE_FILE = input.passphraseFile;
  }
  return env;
}

/** The file `ensurePassphrase` keeps the generated passphrase in. */
export const passphraseFileOf = (dataDir: string) => path.join(dataDir, 'passphrase');

/**
 * Writes a passphrase given in the environment into a file that only this user can read, in memory
 * where the system has it (/dev/shm), removed when the process exits: the CLI reads it from there,
 * and it is never in the environment of a process the worker starts.
 */
export async function writePassphraseFile(passphrase: string): Promise<string> {
  const base = await access('/dev/shm', constants.W_OK).then(
    () => '/dev/shm',
    () => tmpdir(),
  );
  const dir = await mkdtemp(path.join(base, 'clusterd-secrets-'));
  await chmod(dir, 0o700);
  const file = path.join(dir, 'passphrase');
  await writeFile(file, passphrase, { mode: 0o600 });
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return file;
}

/**
 * Returns the passphrase kept in `<dataDir>/passphrase`, generating a random one (32 bytes, base64url,
 * file mode 0600) the first time. Losing this file makes every stack's secrets unreadable: back it up
 * with the state.
 */
export async function ensurePassphrase(dataDir: string): Promise<string> {
  const file = passphraseFileOf(dataDir);
  const passphrase = await ensureGeneratedSecret(file, 'base64url');
  if (!passphrase) throw new Error(`the passphrase file ${file} is empty`);
  return passphrase;
}

/**
 * Creates the directory of a `file://` backend (`file:///abs/dir`, `file://~/dir`; query parameters
 * such as `?no_tmp_dir=true` are ignored); other backends are left alone. Returns the directory, or
 * null for other backends.
 */
export async function ensureFileBackend(backendUrl: string): Promise<string | null> {
  const dir = fileBackendDir(backendUrl);
  if (dir) await mkdir(dir, { recursive: true });
  return dir;
}

/** The directory of a `file://` backend URL, or null for other backends. */
export function fileBackendDir(backendUrl: string): string | null {
  if (!backendUrl.startsWith('file://')) return null;
  const raw = decodeURIComponent(backendUrl.slice('file://'.length).split('?')[0] ?? '');
  return raw === '~' || raw.startsWith('~/') ? path.join(homedir(), raw.slice(1)) : path.resolve(raw);
}
