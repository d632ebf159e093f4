import type { SqlClient } from './sql.js';

/**
 * The database's clock. Deadlines that more than one process compares (expiry, warning thresholds,
 * retries due) are decided by this one clock, never by the clock of whichever process happens to
 * look: processes' clocks drift apart, the database's is shared. It is read from the database every
 * `resyncMs` (and on first use) and carried forward on this process's monotonic clock in between:
 * a request then pays no round trip for it, and a step of this machine's wall clock changes nothing.
 * The reading is off by at most half the round trip of that query.
 * @returns milliseconds since the epoch, by the database
 */
export function databaseClock(db: Pick<SqlClient, 'query'>, { resyncMs = 10_000 } = {}): () => Promise<number> {
  let reading: { at: number; perf: number } | null = null;
  let syncing: Promise<void> | null = null;
  const sync = async () => {
    const sent = performance.now();
    const { rows } = await db.query<{ now: string }>('SELECT now() AS now');
    const received = performance.now();
    reading = { at: Date.parse(rows[0]!.now), perf: (sent + received) / 2 };
  };
  return async () => {
    if (!reading || performance.now() - reading.perf > resyncMs) {
      syncing ??= sync().finally(() => (syncing = null));
      await syncing;
    }
    return Math.round(reading!.at + (performance.now() - reading!.perf));
  };
}
