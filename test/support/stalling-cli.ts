import { accessSync, constants } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

const isExecutable = (file: string) => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * A directory holding a `pulumi` that runs the real CLI from PATH, but first sleeps `stallSeconds`
 * on `pulumi stack …` (how the service reads outputs): a state backend that hangs. Put the directory
 * first on a service's PATH.
 */
export async function stallingPulumiDir(stallSeconds: number): Promise<string> {
  const real = (process.env.PATH ?? '')
    .split(':')
    .filter(Boolean)
    .map((d) => path.join(d, 'pulumi'))
    .find(isExecutable);
  if (!real) throw new Error('no pulumi CLI on PATH');
  const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-slow-cli-'));
  await writeFile(path.join(dir, 'pulumi'), `#!/bin/sh\nif [ "$1" = stack ]; then sleep ${stallSeconds}; fi\nexec ${real} "$@"\n`);
  await chmod(path.join(dir, 'pulumi'), 0o755);
  return dir;
}
