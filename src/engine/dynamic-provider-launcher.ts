/**
 * Dynamic providers (`pulumi.dynamic.Resource`: the test blueprint, and any operator blueprint that
 * uses one) run in the `pulumi-resource-pulumi-nodejs` plugin, which the CLI finds on PATH. The SDK's
 * own launcher is a shell script that starts one Node process to resolve the provider's script and
 * a second to run it on whatever `node` is on PATH, and that second process loads the SDK's runtime
 * with its closure serializer, which the plugin never uses (it deserializes providers; it serializes
 * nothing). Measured with SDK 3.259 on Node 24: 0.75 s of CPU and 130 MB per plugin, and one plugin
 * starts for every CLI command that touches a dynamic resource.
 *
 * Our launcher execs this process's Node on the script resolved once here, with the serializer's
 * heavy modules deferred by a preload (see deferred-sdk-modules.ts): 0.35 s and 87 MB; with the
 * job's Node flags (job-node-flags.ts) 75 MB. Both are written into a directory that the CLI's PATH
 * lists before the SDK's.
 */
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNNING_FROM_SOURCES } from '../blueprints/typescript-modules.js';
import { JOB_NODE_FLAGS } from './job-node-flags.js';
import { replaceFile, shellWord } from './launcher-file.js';

const require = createRequire(import.meta.url);

/** The name the CLI looks the plugin up by. */
export const DYNAMIC_PROVIDER_PLUGIN = 'pulumi-resource-pulumi-nodejs';

/** The deferral module next to this one, as this process runs it (compiled, or its TypeScript source). */
const DEFERRAL = new URL(`./deferred-sdk-modules${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);

/**
 * Writes the launcher into `dir` (created if missing) and returns `dir`, to be put on the CLI's PATH
 * ahead of the SDK's directory. Files are replaced whole, so a plugin started meanwhile by another
 * process sharing `dir` runs either the old launcher or the new one, never half of one.
 */
export async function writeDynamicProviderLauncher(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const script = require.resolve('@pulumi/pulumi/cmd/dynamic-provider');
  const preload = path.join(dir, 'defer-serializer.mjs');
  // A Node that cannot strip types cannot load the deferral from its TypeScript source (tests run
  // without a build): its plugins then load the SDK as it is.
  const withPreload = !RUNNING_FROM_SOURCES || Boolean((process.features as { typescript?: unknown }).typescript);
  if (withPreload) {
    await replaceFile(
      preload,
      `import { deferSerializerModules } from ${JSON.stringify(DEFERRAL.href)};\ndeferSerializerModules();\n`,
      0o644,
    );
  }
  const command = [process.execPath, ...JOB_NODE_FLAGS, ...(withPreload ? ['--import', preload] : []), script].map(shellWord).join(' ');
  await replaceFile(
    path.join(dir, DYNAMIC_PROVIDER_PLUGIN),
    `#!/bin/sh\n# Written by clusterd (src/engine/dynamic-provider-launcher.ts).\nexec ${command} "$@"\n`,
    0o755,
  );
  return dir;
}
