import path from 'node:path';
import { openPostgres } from './pg-client.js';
import { openPglite } from './pglite-client.js';
import type { RecordStore } from './record-store.js';
import { SqlRecordStore } from './sql-store.js';
import { SqlWebhookStore, type WebhookStore } from './webhook-store.js';

/** Where the records live. */
export interface OpenRecordStoreOptions {
  /** A PostgreSQL URL (`postgres://user@host:port/db`). When absent, an embedded PGlite database is used. */
  databaseUrl?: string;
  /** The service's data directory; PGlite keeps its files in `<dataDir>/records`. */
  dataDir: string;
}

/** The stores over one database connection (pool); closing `records` closes it for both. */
export interface Stores {
  records: RecordStore;
  webhooks: WebhookStore;
}

/**
 * Opens the database (PostgreSQL when `databaseUrl` is set, else PGlite) and applies pending
 * migrations before returning its stores. PGlite allows one process per directory, so API and
 * workers that share records across processes need PostgreSQL.
 */
export async function openStores(options: OpenRecordStoreOptions): Promise<Stores> {
  const client = options.databaseUrl
    ? openPostgres(options.databaseUrl)
    : await openPglite(path.join(options.dataDir, 'records'));
  const records = new SqlRecordStore(client);
  try {
    await records.migrate();
  } catch (err) {
    await records.close().catch(() => undefined);
    throw err;
  }
  return { records, webhooks: new SqlWebhookStore(client) };
}

/** {@link openStores}, for callers that need the records only. */
export async function openRecordStore(options: OpenRecordStoreOptions): Promise<RecordStore> {
  return (await openStores(options)).records;
}
