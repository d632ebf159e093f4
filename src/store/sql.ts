/**
 * The little SQL surface the record store needs, so that one store runs over a PostgreSQL
 * server (`pg`) or embedded PGlite. Both implementations return values in the same shapes:
 * `timestamptz` as ISO-8601 strings in UTC, `bigint` as number, `json`/`jsonb` parsed.
 */
export interface SqlClient {
  /** Runs one statement with `$1`-style parameters. Pass JSON as a string and cast it (`$1::jsonb`). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /**
   * Runs `fn` inside BEGIN/COMMIT on one connection; rolls back and rethrows if `fn` throws.
   * Calling `transaction` on the `tx` handle joins the enclosing transaction (no savepoint).
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel` until the returned function is called. On PostgreSQL this
   * holds one dedicated connection, reconnected after a drop; on PGlite it is in-process. Not
   * available on a transaction handle.
   */
  listen(channel: string, listener: NotificationListener): Promise<Unlisten>;
  /** Releases the connection(s); the client is unusable afterwards. */
  close(): Promise<void>;
}

/** What a LISTEN subscription tells its owner. Handlers must not throw; they run on the driver's stack. */
export interface NotificationListener {
  /** One notification on the channel, with its payload (empty string when none was sent). */
  onNotification(payload: string): void;
  /**
   * The subscription is in place, first or again after a drop. Notifications sent while it was
   * not are lost, so whatever depends on them should look at the records again.
   */
  onListening?(): void;
  /** The subscription's connection failed; it is retried. For logging. */
  onError?(err: Error): void;
}

/** Ends a subscription made with {@link SqlClient.listen}. */
export type Unlisten = () => Promise<void>;

/** SQLSTATE of a unique constraint violation. */
export const UNIQUE_VIOLATION = '23505';

/** True when `err` is a database error with that SQLSTATE (both drivers expose it as `code`). */
export function hasSqlState(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

// Network failures on the way to the server, and SQLSTATE classes 08 (connection exception) and 57P
// (operator intervention: shutdown, restart, cannot connect now).
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * True when `err` says the record store could not be reached or went away (restarting, down,
 * partitioned), not that the statement was wrong: the request may succeed if tried again.
 */
export function isStoreUnreachable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE.has(code) || code.startsWith('08') || code.startsWith('57P'))) return true;
  // node-postgres says these in words only.
  return (
    typeof message === 'string' &&
    /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(message)
  );
}

// The server's text form: `2024-05-01 10:20:30.123456+00`, offsets as +HH, +HH:MM or +HH:MM:SS.
const TIMESTAMPTZ = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/;

/**
 * Converts PostgreSQL's text form of a `timestamptz` into an ISO-8601 UTC string with
 * millisecond precision (microseconds are truncated, as a JS Date cannot hold them).
 * `infinity`/`-infinity` and BC dates are returned unchanged: the schema never stores them.
 */
export function timestamptzToIso(text: string): string {
  const m = TIMESTAMPTZ.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, frac = '', sign, oh = '0', om = '0', os = '0'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const offsetMs = ((Number(oh) * 60 + Number(om)) * 60 + Number(os)) * 1000 * (sign === '-' ? -1 : 1);
  return new Date(local - offsetMs).toISOString();
}

/** Parses an `int8` column; the values we store (sequence numbers, counts) fit in 2^53. */
export function int8ToNumber(text: string): number {
  return Number(text);
}
