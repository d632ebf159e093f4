import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../config.js';
import {
  buildPulumiEnv,
  ensureFileBackend,
  ensurePassphrase,
  passphraseFileOf,
  writePassphraseFile,
  type PulumiEnv,
} from '../engine/pulumi-env.js';
import { writeDynamicProviderLauncher } from '../engine/dynamic-provider-launcher.js';
import { writePolicyAnalyzerLauncher } from '../engine/policy-analyzer-launcher.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Pulumi project every cluster stack belongs to, read from the root Pulumi.yaml. */
export async function projectName(): Promise<string> {
  const yaml = await readFile(path.join(ROOT, 'Pulumi.yaml'), 'utf8');
  const name = /^name:\s*([\w.-]+)\s*$/m.exec(yaml)?.[1];
  if (!name) throw new Error('Pulumi.yaml has no name');
  return name;
}

/**
 * The environment of every Pulumi CLI call: backend, secrets, PATH. `runsPrograms`: the CLI will run
 * programs (the worker), so it gets our dynamic-provider and policy-pack plugin launchers; the API
 * only reads outputs.
 */
export async function pulumiEnv(config: Config, runsPrograms: boolean): Promise<PulumiEnv> {
  let passphraseFile: string | undefined;
  if (config.CLUSTERD_SECRETS_PROVIDER === 'passphrase') {
    if (config.PULUMI_CONFIG_PASSPHRASE) passphraseFile = await writePassphraseFile(config.PULUMI_CONFIG_PASSPHRASE);
    else {
      await ensurePassphrase(config.dataDir);
      passphraseFile = passphraseFileOf(config.dataDir);
    }
  }
  await ensureFileBackend(config.backendUrl);
  return buildPulumiEnv({
    dataDir: config.dataDir,
    backendUrl: config.backendUrl,
    secretsProvider: config.CLUSTERD_SECRETS_PROVIDER,
    passphraseFile,
    compileCacheDir: config.compileCacheDir,
    ...(runsPrograms ? { launcherDir: await writeLaunchers(path.join(config.dataDir, 'bin')) } : {}),
  });
}

/** Writes both plugin launchers into `dir`, which then goes on the CLI's PATH. */
async function writeLaunchers(dir: string): Promise<string> {
  await writeDynamicProviderLauncher(dir);
  return writePolicyAnalyzerLauncher(dir);
}
