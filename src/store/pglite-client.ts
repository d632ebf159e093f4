import { mkdir } from 'node:fs/promises';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { lockDirectory, type LockLostError } from './directory-lock.js';
import { int8ToNumber, timestamptzToIso, type NotificationListener, type SqlClient, type Unlisten } from './sql.js';

/** Options of {@link openPglite}. */
/**
 * The embedded server's memory lives in this process: the records of one service (thousands of
 * clusters) need far less than PostgreSQL's defaults (128 MB of shared buffers). Measured with
 * PGlite 0.5 on Node 24: a process holding PGlite after 20,000 rows, 505 MB resident with the
 * defaults, 440 MB with these.
 */
const EMBEDDED_SETTINGS = ['shared_buffers=16MB', 'work_mem=2MB', 'maintenance_work_mem=16MB'];

export interface PgliteOptions {
  /**
   * Called once if the directory's lock is lost while open. The client already refuses every
   * further statement; the process should stop (another process may now open the directory).
   * @defaultValue none: the client only refuses statements
   */
  onLockLost?: (err: LockLostError) => void;
  /** How long to wait for another process to release the directory before refusing. @defaultValue 3000 */
  lockWaitMs?: number;
}

/**
 * Opens (creating if needed) a PGlite database persisted in `dir`, after taking an exclusive lock
 * on the directory: PGlite is a single in-process connection, and two processes on one directory
 * silently lose each other's writes. Throws RecordStoreInUseError when another process holds it.
 * `close()` releases the lock.
 */
export async function openPglite(dir: string, options: PgliteOptions = {}): Promise<SqlClient> {
  await mkdir(dir, { recursive: true });
  let client: PgliteClient | undefined;
  let lostEarly: LockLostError | undefined;
  const lock = await lockDirectory(dir, {
    waitMs: options.lockWaitMs,
    onLost: (err) => {
      if (!client) lostEarly = err;
      client?.refuseFrom(err);
      options.onLockLost?.(err);
    },
  });
  try {
    const db = await PGlite.create(dir, {
      parsers: { [types.TIMESTAMPTZ]: timestamptzToIso, [types.INT8]: int8ToNumber },
      postgresqlconf: EMBEDDED_SETTINGS,
    });
    client = new PgliteClient(db, () => lock.release());
    if (lostEarly) client.refuseFrom(lostEarly);
    // Same session clock as the pg client, so timestamps print identically.
    await client.query(`SET TIME ZONE 'UTC'`);
    return client;
  } catch (err) {
    await (client ? client.close() : lock.release()).catch(() => undefined);
    throw err;
  }
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
  private refusal: Error | null = null;

  constructor(
    private readonly db: PGlite,
    private readonly releaseDirectory: () => Promise<void>,
  ) {}

  /** From now on every statement fails with `err`, including those already waiting their turn. */
  refuseFrom(err: Error): void {
    this.refusal ??= err;
  }

  private readonly allowed = (): void => {
    if (this.refusal) throw this.refusal;
  };

  query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    return this.lock.run(async () => {
      this.allowed();
      return { rows: (await this.db.query<T>(text, params)).rows };
    });
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.lock.run(() => {
      this.allowed();
      return this.db.transaction((tx) => fn(new PgliteTx(tx, this.allowed)));
    });
  }

  async listen(channel: string, listener: NotificationListener): Promise<Unlisten> {
    // PGlite hands over notifications as it reads a query's results, that is on commit of the
    // transaction that sent them; the one connection never drops, so there is no reconnecting.
    const unlisten = await this.lock.run(() => this.db.listen(channel, (payload) => listener.onNotification(payload)));
    listener.onListening?.();
    return () => this.lock.run(() => unlisten());
  }

  close(): Promise<void> {
    return this.lock.run(async () => {
      try {
        // Closing flushes to the directory, which another process may own once the lock is lost.
        if (!this.refusal) await this.db.close();
      } finally {
        await this.releaseDirectory();
      }
    });
  }
}

/** The handle a transaction body sees: queries go straight to the open transaction. */
class PgliteTx implements SqlClient {
  constructor(
    private readonly tx: Transaction,
    private readonly allowed: () => void,
  ) {}

  async query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    // A lost lock also stops a transaction midway: it rolls back instead of committing.
    this.allowed();
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
