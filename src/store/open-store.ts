import path from 'node:path';
import { openPostgres } from './pg-client.js';
import { openPglite } from './pglite-client.js';
import type { RecordStore } from './record-store.js';
import { SqlRecordStore } from './sql-store.js';
import { migrate } from './migrations.js';
import type { SqlClient } from './sql.js';

/** Where the records live. */
export interface OpenRecordStoreOptions {
  /** A PostgreSQL URL (`postgres://user@host:port/db`). When absent, an embedded PGlite database is used. */
  databaseUrl?: string;
  /** The service's data directory; PGlite keeps its files in `<dataDir>/records`. */
  dataDir: string;
}

/**
 * Opens the database (PostgreSQL when `databaseUrl` is set, else PGlite) and applies pending
 * migrations before returning its stores. PGlite allows one process per directory, so API and
 * workers that share records across processes need PostgreSQL.
 */
export async function openRecordStore(options: OpenRecordStoreOptions): Promise<RecordStore> {
  return new SqlRecordStore(await openDatabase(options));
}

/** The migrated database itself, for the stores that share it (records, drift reports, webhooks). */
export async function openDatabase(options: OpenRecordStoreOptions): Promise<SqlClient> {
  const client = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : await openPglite(path.join(options.dataDir, 'records'));
  try {
    await migrate(client);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return client;
}
