import type { SqlClient } from './sql.js';

/**
 * The database's clock, read once per decision. Deadlines that more than one process compares
 * (expiry, warning thresholds, leases, retries due) are decided by this one clock, never by the
 * clock of whichever process happens to look: processes' clocks drift apart, the database's is shared.
 * @returns milliseconds since the epoch, by the database
 */
export function databaseClock(db: Pick<SqlClient, 'query'>): () => Promise<number> {
  return async () => {
    const { rows } = await db.query<{ now: string }>('SELECT now() AS now');
    return Date.parse(rows[0]!.now);
  };
}
