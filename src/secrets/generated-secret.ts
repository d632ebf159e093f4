import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * The text of `file`, a secret of 32 random bytes (in `encoding`) generated into it (mode 0600) the
 * first time. Written aside, then linked into place: link fails if the file exists, so two processes
 * starting at once agree on one secret, and nobody ever reads a half-written file.
 */
export async function ensureGeneratedSecret(file: string, encoding: 'base64' | 'base64url'): Promise<string> {
  const existing = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  if (existing !== null) return existing.trim();
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, randomBytes(32).toString(encoding), { mode: 0o600 });
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  return (await readFile(file, 'utf8')).trim();
}
