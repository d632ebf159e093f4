/**
 * Finding the Pulumi CLI, and telling it to the job processes. Every `PulumiCommand.get` runs
 * `pulumi version`, a whole CLI process (about a third of a second of CPU, most of it the CLI's own
 * start-up): a worker asks once and hands what it learned to each job's child.
 */
import { randomUUID } from 'node:crypto';
import { access, constants, mkdir, rm, symlink, rename } from 'node:fs/promises';
import path from 'node:path';
import type { PulumiCommand } from '@pulumi/pulumi/automation/index.js';
import { SemVer } from 'semver';
import { deferSerializerModules } from './deferred-sdk-modules.js';

/**
 * The SDK's Automation API, loaded on first use and with its closure serializer's heavy modules
 * deferred: the service's own processes only find the CLI and read outputs here, and serialize
 * nothing (measured: 1.3 s of CPU and 60 MB less for a worker or API process that loads it).
 */
async function automationApi() {
  deferSerializerModules();
  return import('@pulumi/pulumi/automation/index.js');
}

/** A CLI found and checked: its binary and its version. Plain data, so that it crosses to a job's child. */
export interface KnownCli {
  command: string;
  version: string;
}

/**
 * The CLI found on `envPath`. The SDK only takes an install root laid out as `<root>/bin/pulumi`, so
 * a binary elsewhere is linked into `<shimRoot>/.pulumi-cli/bin/pulumi`.
 */
export async function commandFromPath(envPath: string, shimRoot: string): Promise<PulumiCommand> {
  const { PulumiCommand } = await automationApi();
  for (const dir of envPath.split(path.delimiter).filter(Boolean)) {
    const binary = path.join(dir, 'pulumi');
    if (
      !(await access(binary, constants.X_OK).then(
        () => true,
        () => false,
      ))
    )
      continue;
    if (path.basename(dir) === 'bin') return PulumiCommand.get({ root: path.dirname(dir) });
    const root = path.join(shimRoot, '.pulumi-cli');
    await mkdir(path.join(root, 'bin'), { recursive: true });
    // Replace atomically: another worker may be reading the link right now (and another engine in this
    // process writing its own).
    const tmp = path.join(root, 'bin', `pulumi.${process.pid}.${randomUUID()}.tmp`);
    await rm(tmp, { force: true });
    await symlink(binary, tmp);
    await rename(tmp, path.join(root, 'bin', 'pulumi'));
    return PulumiCommand.get({ root });
  }
  throw new Error('no pulumi CLI on PATH: run scripts/ensure-pulumi.sh and put the directory it prints on PATH');
}

/** The CLI on `envPath` as plain data, checked by the SDK (its minimum version); null when there is none to use. */
export async function findCli(envPath: string, shimRoot: string): Promise<KnownCli | null> {
  try {
    const found = await commandFromPath(envPath, shimRoot);
    return found.version ? { command: found.command, version: found.version.format() } : null;
  } catch {
    // Each job then looks for itself, and fails with the reason.
    return null;
  }
}

/** The SDK's command for a CLI already found and checked, without running it again. */
export async function commandOf(cli: KnownCli): Promise<PulumiCommand> {
  const { PulumiCommand } = await automationApi();
  // Private only in the SDK's typings: the constructor just keeps the binary and its version.
  const Command = PulumiCommand as unknown as new (command: string, version: SemVer) => PulumiCommand;
  return new Command(cli.command, new SemVer(cli.version));
}
