import { mkdir } from 'node:fs/promises';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { int8ToNumber, timestamptzToIso, type NotificationListener, type SqlClient, type Unlisten } from './sql.js';

/**
 * Opens (creating if needed) a PGlite database persisted in `dir`.
 * PGlite is a single in-process connection, and only one process may open a directory at a time.
 */
export async function openPglite(dir: string): Promise<SqlClient> {
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir, {
    parsers: { [types.TIMESTAMPTZ]: timestamptzToIso, [types.INT8]: int8ToNumber },
  });
  // Same session clock as the pg client, so timestamps print identically.
  await db.query(`SET TIME ZONE 'UTC'`);
  return new PgliteClient(db);
}

/** Runs one task at a time, in arrival order. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    // The next task waits for this one to settle, whether it failed or not.
    this.tail = result.catch(() => undefined);
    return result;
  }
}

class PgliteClient implements SqlClient {
  // PGlite queues calls internally too, but that is not part of its documented contract; our own
  // lock makes the guarantee explicit: nothing runs between a transaction's BEGIN and COMMIT.
  private readonly lock = new Mutex();

  constructor(private readonly db: PGlite) {}

  query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    return this.lock.run(async () => ({ rows: (await this.db.query<T>(text, params)).rows }));
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.lock.run(() => this.db.transaction((tx) => fn(new PgliteTx(tx))));
  }

  async listen(channel: string, listener: NotificationListener): Promise<Unlisten> {
    // PGlite hands over notifications as it reads a query's results, that is on commit of the
    // transaction that sent them; the one connection never drops, so there is no reconnecting.
    const unlisten = await this.lock.run(() => this.db.listen(channel, (payload) => listener.onNotification(payload)));
    listener.onListening?.();
    return () => this.lock.run(() => unlisten());
  }

  close(): Promise<void> {
    return this.lock.run(() => this.db.close());
  }
}

/** The handle a transaction body sees: queries go straight to the open transaction. */
class PgliteTx implements SqlClient {
  constructor(private readonly tx: Transaction) {}

  async query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    return { rows: (await this.tx.query<T>(text, params)).rows };
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }

  listen(): Promise<Unlisten> {
    return Promise.reject(new Error('listen() called on a transaction handle; listen on the client instead'));
  }

  close(): Promise<void> {
    return Promise.reject(new Error('close() called on a transaction handle; close the client instead'));
  }
}
