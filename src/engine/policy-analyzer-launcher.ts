/**
 * Policy packs (CrossGuard) written for Node are started by the CLI through a plugin named
 * `pulumi-analyzer-policy-nodejs`, which it looks up on PATH when no `pulumi-language-nodejs` plugin
 * is installed (our CLI is built from source and has none). It starts the plugin in the pack's
 * directory with the engine's address and `.` (the pack) as arguments, then `-key=value` for each of
 * the pack's runtime options. The official CLI ships the plugin as a shell script that asks `node`
 * on PATH to resolve `@pulumi/pulumi/cmd/run-policy-pack` from the pack's directory, then runs it on
 * that `node`; `@pulumi/pulumi` does not ship it.
 *
 * Ours execs this process's Node on the script resolved once here: the pack's `node_modules` need
 * not hold `@pulumi/pulumi`, and no second Node process starts to find it. The pack itself still
 * loads from its directory, so its `require('@pulumi/policy')` resolves from there (its own
 * `node_modules`, or the repository's for the packs inside it), then from NODE_PATH (see
 * pulumi-env.ts), which CommonJS packs consult and ES module packs do not.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { replaceFile, shellWord } from './launcher-file.js';

const require = createRequire(import.meta.url);

/** The name the CLI looks the plugin up by (`pulumi-analyzer-policy-<runtime>` of PulumiPolicy.yaml). */
export const POLICY_ANALYZER_PLUGIN = 'pulumi-analyzer-policy-nodejs';

/**
 * Writes the launcher into `dir` (created if missing) and returns `dir`, to be put on the CLI's PATH.
 * The file is replaced whole, so a plugin started meanwhile by another process sharing `dir` runs
 * either the old launcher or the new one, never half of one.
 */
export async function writePolicyAnalyzerLauncher(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const command = [process.execPath, require.resolve('@pulumi/pulumi/cmd/run-policy-pack')].map(shellWord).join(' ');
  await replaceFile(
    path.join(dir, POLICY_ANALYZER_PLUGIN),
    `#!/bin/sh\n# Written by clusterd (src/engine/policy-analyzer-launcher.ts).\nexec ${command} "$@"\n`,
    0o755,
  );
  return dir;
}
