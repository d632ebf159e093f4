import pg from 'pg';
import type { NotificationListener, Unlisten } from './sql.js';

/** Timing of a {@link listenPostgres} subscription. */
export interface PgListenerOptions {
  /** First wait before reconnecting after a drop; doubled after each failure up to `maxRetryMs`. @defaultValue 250 */
  retryMs?: number;
  /** Longest wait between reconnection attempts. @defaultValue 5000 */
  maxRetryMs?: number;
  /**
   * How often the idle connection is asked `SELECT 1`: a peer that vanished without closing the
   * socket is noticed within about this time plus `heartbeatTimeoutMs`. @defaultValue 15000
   */
  heartbeatMs?: number;
  /** How long a heartbeat may take before the connection is given up. @defaultValue 5000 */
  heartbeatTimeoutMs?: number;
  /** How long one connection attempt may take; a server that does not answer is tried again later. @defaultValue 10000 */
  connectTimeoutMs?: number;
}

/** Shown in pg_stat_activity, so that an operator can tell the listener from pooled connections. */
export const LISTENER_APPLICATION_NAME = 'clusterd-listener';

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * LISTENs on `channel` over a dedicated connection that is re-established whenever it drops
 * (server restart, network failure, terminated backend), re-issuing LISTEN each time and telling
 * `listener.onListening`, since notifications sent in between are lost. The first attempt is
 * awaited but its failure is not thrown: the retries go on in the background.
 */
export async function listenPostgres(
  config: pg.ClientConfig,
  channel: string,
  listener: NotificationListener,
  options: PgListenerOptions = {},
): Promise<Unlisten> {
  const retryMs = options.retryMs ?? 250;
  const maxRetryMs = options.maxRetryMs ?? 5_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 5_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  let stopped = false;
  let current: pg.Client | null = null;
  let delay = retryMs;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;

  const drop = (client: pg.Client, err?: Error) => {
    // A failing connection reports more than once ('error', then 'end'): act on the first.
    if (current !== client) return;
    current = null;
    clearInterval(heartbeat);
    if (err) listener.onError?.(err);
    client.end().catch(() => undefined);
    if (stopped) return;
    retry = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, maxRetryMs);
  };

  const connect = async () => {
    if (stopped) return;
    const client = new pg.Client({
      ...config,
      application_name: LISTENER_APPLICATION_NAME,
      keepAlive: true,
      query_timeout: heartbeatTimeoutMs,
      connectionTimeoutMillis: connectTimeoutMs,
    });
    current = client;
    client.on('error', (err) => drop(client, err));
    client.on('end', () => drop(client, new Error('the listening connection was closed')));
    client.on('notification', (msg) => {
      if (msg.channel === channel) listener.onNotification(msg.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(channel)}`);
    } catch (err) {
      drop(client, err as Error);
      return;
    }
    if (current !== client) return;
    delay = retryMs;
    heartbeat = setInterval(() => {
      client.query('SELECT 1').catch((err: Error) => drop(client, err));
    }, heartbeatMs);
    heartbeat.unref();
    listener.onListening?.();
  };

  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    clearInterval(heartbeat);
    const client = current;
    current = null;
    await client?.end().catch(() => undefined);
  };
}
