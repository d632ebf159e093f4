import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openPostgres } from '../../src/store/pg-client.js';
import { openPglite } from '../../src/store/pglite-client.js';
import type { SqlClient } from '../../src/store/sql.js';
import { copyPgliteTemplate } from './pglite-template.js';

/** A fresh, empty database for one run of the suite. */
export interface Backend {
  /** Clients on the fresh database; PGlite can only hand out the one it has. */
  clients(count: number): Promise<SqlClient[]>;
  /** Closes what `clients` opened and deletes the database. */
  cleanup(): Promise<void>;
}

/** PGlite in a temp directory: a copy of the suite's migrated template, or (`migrated: false`) an empty database. */
export async function pgliteBackend({ migrated = true } = {}): Promise<Backend> {
  const dir = await mkdtemp(path.join(tmpdir(), 'clusterd-store-'));
  if (migrated) await copyPgliteTemplate(dir);
  const client = await openPglite(dir);
  return {
    clients: async () => [client],
    cleanup: async () => {
      await client.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function postgresBackend(url: string): Promise<Backend> {
  const admin = openPostgres(url, { maxConnections: 1 });
  const database = `clusterd_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const dbUrl = new URL(url);
  dbUrl.pathname = `/${database}`;
  const opened: SqlClient[] = [];
  return {
    clients: async (count) => {
      const fresh = Array.from({ length: count }, () => openPostgres(dbUrl.toString()));
      opened.push(...fresh);
      return fresh;
    },
    cleanup: async () => {
      await Promise.all(opened.map((c) => c.close()));
      await admin.query(`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.close();
    },
  };
}
