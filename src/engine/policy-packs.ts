import { readFile, access } from 'node:fs/promises';
import path from 'node:path';

/** Policy packs to run, each with the config file it reads, if any. */
export interface PolicyPacks {
  /** Pack directories, absolute. */
  packs: string[];
  /** Config files (JSON, absolute), one per pack in the same order; empty: every pack runs on its defaults. */
  configs: string[];
}

/**
 * The configured policy packs, absolute, each checked to hold a pack (`PulumiPolicy.yaml`) and each
 * config file to be JSON: a worker refuses to start with a pack it cannot run, rather than fail every
 * operation later.
 */
export async function checkPolicyPacks(dirs: string[], configFiles: string[] = []): Promise<PolicyPacks> {
  const packs = dirs.map((d) => path.resolve(d));
  const configs = configFiles.map((f) => path.resolve(f));
  for (const dir of packs) {
    try {
      await access(path.join(dir, 'PulumiPolicy.yaml'));
    } catch {
      throw new Error(`CLUSTERD_POLICY_PACKS names ${dir}, which holds no policy pack (no PulumiPolicy.yaml there)`);
    }
  }
  if (configs.length && configs.length !== packs.length)
    throw new Error(
      `CLUSTERD_POLICY_PACK_CONFIGS names ${configs.length} files for ${packs.length} packs: give one per pack, in the same order, or none`,
    );
  for (const file of configs) {
    try {
      JSON.parse(await readFile(file, 'utf8'));
    } catch (err) {
      throw new Error(`CLUSTERD_POLICY_PACK_CONFIGS names ${file}, which is not a readable JSON file: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return { packs, configs };
}
