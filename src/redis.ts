import { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Options of {@link connectRedis}. */
export interface RedisConnectionOptions {
  /**
   * Commands fail at once while the connection is down instead of waiting for it: for producers,
   * so that a request is answered from the records without waiting for Redis (the reconciler queues
   * it later). A worker's blocking commands must wait out an outage instead. @defaultValue false
   */
  failFast?: boolean;
  /** Where connection errors go (a warning each); without it ioredis reports them as unhandled. */
  log?: Logger;
  /** PEM certificates of the authority that signed the server's, for a `rediss://` URL (a private CA). */
  tlsCa?: string;
}

/**
 * The one way this service connects to Redis: a connection fit for BullMQ, whose workers need
 * `maxRetriesPerRequest: null` (a blocking command is never given up on while Redis is away).
 * `redis://:password@host:port/db` and `rediss://…` (TLS, checked against the system's CAs, or
 * `tlsCa`) work as ioredis reads them.
 */
export function connectRedis(url: string, options: RedisConnectionOptions = {}): Redis {
  // ioredis takes TLS (`rediss://`), a password and a user from the URL itself; only a private CA needs saying.
  const connection = new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    enableOfflineQueue: !options.failFast,
    ...(options.tlsCa ? { tls: { ca: options.tlsCa } } : {}),
  });
  const { log } = options;
  if (log) connection.on('error', (err) => log.warn({ err: err.message }, 'redis connection error'));
  return connection;
}

/** How long QUIT may wait for Redis to answer before the connection is dropped. Milliseconds. */
const QUIT_WAIT_MS = 2_000;
/** How long a connection whose socket is open may take to end once dropped. Milliseconds. */
const END_WAIT_MS = 1_000;

/**
 * Closes a Redis connection, in bounded time whatever state Redis is in. QUIT is only sent on a ready
 * connection, and a Redis that takes it and never answers (hung, or not Redis) does not hold the
 * shutdown: the connection is dropped then, as it is at once when it is down (QUIT would fail, and the
 * client go on reconnecting for ever). Returns once the connection has ended and what waited on it
 * (BullMQ queues still connecting) has been told, while they still listen for it.
 */
export async function closeRedis(connection: Redis): Promise<void> {
  const ended = new Promise<void>((resolve) => connection.once('end', resolve));
  const quitInTime =
    connection.status === 'ready' &&
    (await Promise.race([
      connection.quit().then(
        () => true,
        () => false,
      ),
      delay(QUIT_WAIT_MS).then(() => false),
    ]));
  if (!quitInTime) connection.disconnect();
  // A connection with a socket (connecting, or QUIT in flight) ends when the socket closes; one that
  // was waiting to reconnect is done at once and emits nothing more.
  if (connection.status !== 'end' && connection.status !== 'reconnecting') await Promise.race([ended, delay(END_WAIT_MS)]);
  // What the end rejected runs its handlers before the caller moves on.
  await new Promise((resolve) => setImmediate(resolve));
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
