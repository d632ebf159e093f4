import path from 'node:path';
import type { LockLostError } from './directory-lock.js';
import { openPostgres } from './pg-client.js';
import { openPglite } from './pglite-client.js';
import type { RecordStore } from './record-store.js';
import { SqlRecordStore } from './sql-record-store.js';
import { migrate } from './migrations.js';
import type { SqlClient } from './sql.js';

/** Where the records live. */
export interface OpenRecordStoreOptions {
  /** A PostgreSQL URL (`postgres://user@host:port/db`). When absent, an embedded PGlite database is used. */
  databaseUrl?: string;
  /** The service's data directory; PGlite keeps its files in `<dataDir>/records`. */
  dataDir: string;
  /**
   * PGlite only: called if the lock on `<dataDir>/records` is lost while open (the store already
   * refuses every statement); the process should stop at once.
   */
  onLockLost?: (err: LockLostError) => void;
}

/**
 * Opens the database (PostgreSQL when `databaseUrl` is set, else PGlite) and applies pending
 * migrations before returning its stores. PGlite allows one process per directory: it is locked,
 * and a second process is refused (RecordStoreInUseError), so API and workers that share records
 * across processes need PostgreSQL.
 */
export async function openRecordStore(options: OpenRecordStoreOptions): Promise<RecordStore> {
  return new SqlRecordStore(await openDatabase(options));
}

/** The migrated database itself, for the stores that share it (records, drift reports, webhooks). */
export async function openDatabase(options: OpenRecordStoreOptions): Promise<SqlClient> {
  if (options.databaseUrl) {
    const client = openPostgres(options.databaseUrl);
    await migrateOrClose(client);
    return client;
  }
  const open = () => openPglite(path.join(options.dataDir, 'records'), { onLockLost: options.onLockLost });
  const client = await open();
  if ((await migrateOrClose(client)).length === 0) return client;
  // Creating the database grows PGlite's WebAssembly memory, which never shrinks: about 300 MB more
  // resident for the whole life of the process. A new instance on the files just written starts as
  // small as on any later start, once the old one's memory is collected: at once where npm start
  // exposes the collector (--expose-gc), else whenever V8 gets to it.
  await client.close();
  (globalThis as { gc?: () => void }).gc?.();
  return open();
}

/** Applies the pending migrations (their versions), closing the client if that fails. */
async function migrateOrClose(client: SqlClient): Promise<number[]> {
  try {
    return await migrate(client);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
}
