/**
 * A migrated PGlite data directory made once per run of the suite, copied wherever a test needs a fresh
 * embedded store: PGlite's first start and the migrations take about 7 s of CPU here, a copy and a start
 * about 0.6.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openDatabase } from '../../src/store/open-store.js';

/** Makes the template (the global setup does, once); returns its directory and how to remove it. */
export async function makePgliteTemplate(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-pglite-template-'));
  await (await openDatabase({ dataDir })).close();
  return { dir: path.join(dataDir, 'records'), remove: () => rm(dataDir, { recursive: true, force: true }) };
}

/** Fills `dir`, a PGlite data directory to be, with a copy of the template; leaves it to PGlite to make when there is none. */
export async function copyPgliteTemplate(dir: string): Promise<void> {
  const template = process.env.CLUSTERD_TEST_PGLITE_TEMPLATE;
  // `cp -R` (the contents, `/.`, whether `dir` exists or not), not fs.cp: the directory is a thousand
  // small files, which fs.cp copies at 1-2 s of CPU (measured on Node 24) and cp at a tenth of that.
  if (template) await promisify(execFile)('cp', ['-R', `${template}/.`, dir]);
}
