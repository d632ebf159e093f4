import { randomUUID } from 'node:crypto';
import { chmod, rename, writeFile } from 'node:fs/promises';

/** Quotes a word for sh: everything literal. */
export const shellWord = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * Replaces `file` whole with `body`: a plugin started meanwhile by another process sharing the
 * directory runs either the old file or the new one, never half of one.
 */
export async function replaceFile(file: string, body: string, mode: number): Promise<void> {
  const temp = `${file}.${process.pid}.${randomUUID()}`;
  await writeFile(temp, body, { mode });
  // The umask may have narrowed the mode the file was created with.
  await chmod(temp, mode);
  await rename(temp, file);
}
