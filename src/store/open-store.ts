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
  const client = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : await openPglite(path.join(options.dataDir, 'records'), { onLockLost: options.onLockLost });
  try {
    await migrate(client);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return client;
}
