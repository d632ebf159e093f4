import pg from 'pg';
import { listenPostgres } from './pg-listener.js';
import { int8ToNumber, timestamptzToIso, type NotificationListener, type SqlClient, type Unlisten } from './sql.js';

const { Pool, types } = pg;

/** Options for {@link openPostgres}. */
export interface PostgresOptions {
  /** Most connections the pool opens. @defaultValue 10 */
  maxConnections?: number;
}

/**
 * A pool of connections to the PostgreSQL server at `url` (`postgres://user@host:port/db`).
 * Connects lazily: the first query reports an unreachable server.
 */
export function openPostgres(url: string, options: PostgresOptions = {}): SqlClient {
  const pool = new Pool({
    connectionString: url,
    max: options.maxConnections ?? 10,
    // UTC sessions, so that the server prints timestamps the same way PGlite does.
    options: '-c TimeZone=UTC',
    types: { getTypeParser },
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return new PgPoolClient(pool);
}

// Only the types whose default parsing differs from PGlite's are overridden here.
function getTypeParser(oid: number, format?: 'text' | 'binary'): (text: string) => unknown {
  if (oid === types.builtins.TIMESTAMPTZ) return timestamptzToIso;
  if (oid === types.builtins.INT8) return int8ToNumber;
  return types.getTypeParser(oid, format ?? 'text') as (text: string) => unknown;
}

class PgPoolClient implements SqlClient {
  constructor(private readonly pool: pg.Pool) {}

  async query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    return { rows: (await this.pool.query(text, params)).rows as T[] };
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const conn = await this.pool.connect();
    // A server that goes away (restarted, failed over) while this connection is checked out makes it
    // emit 'error', which the pool only listens for on idle connections: unheard, it would end the
    // process. The query under way fails with the same error, so hearing it is enough.
    const heard = () => undefined;
    conn.on('error', heard);
    const release = (err?: Error | boolean) => {
      conn.off('error', heard);
      conn.release(err);
    };
    let result: T;
    try {
      await conn.query('BEGIN');
      result = await fn(new PgTx(conn));
      await conn.query('COMMIT');
    } catch (err) {
      await conn.query('ROLLBACK').then(
        () => release(),
        // The connection is in an unknown state: destroy it rather than return it to the pool.
        (rollbackErr: unknown) => release(rollbackErr instanceof Error ? rollbackErr : true),
      );
      throw err;
    }
    release();
    return result;
  }

  listen(channel: string, listener: NotificationListener): Promise<Unlisten> {
    // Its own connection, not one of the pool's: LISTEN lasts as long as the session does.
    return listenPostgres(this.pool.options, channel, listener);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class PgTx implements SqlClient {
  constructor(private readonly conn: pg.PoolClient) {}

  async query<T>(text: string, params: unknown[] = []): Promise<{ rows: T[] }> {
    return { rows: (await this.conn.query(text, params)).rows as T[] };
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
