import type { Server, ServerResponse } from 'node:http';

export interface GracefulCloseOptions {
  /** How long requests in flight may take to finish once the listener is closed, in ms. */
  graceMs: number;
  /** Called at the end of the grace: long answers (event streams) write their last frame and end. */
  endLongAnswers(): void;
  /** After `endLongAnswers`, how long their last frames get to reach the clients before every connection left is cut, in ms. @defaultValue 1000 */
  flushMs?: number;
}

export interface GracefulServer {
  /**
   * From now on every answer closes its connection after it (`Connection: close`), so that clients
   * and load balancers open their next one elsewhere. The listener still accepts.
   */
  drain(): void;
  /**
   * Stops accepting connections and closes idle keep-alive ones at once; requests in flight finish
   * within the grace, each connection closing after its answer. Then long answers are ended, and
   * what is still open after `flushMs` is cut.
   * @returns how many answers were cut unfinished
   */
  close(options: GracefulCloseOptions): Promise<{ cut: number }>;
}

/**
 * Follows the requests of an HTTP server so that it can be shut down politely. Must be called
 * before the server takes its first request.
 */
export function trackRequests(server: Server): GracefulServer {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let listening = true;
  // Ahead of the app, so that the answer's headers are not written yet.
  server.prependListener('request', (_req, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // An answer whose keep-alive headers were sent before the drain leaves an idle socket behind.
      if (!listening) server.closeIdleConnections();
    });
  });

  const drain = () => {
    draining = true;
    for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
  };

  return {
    drain,
    async close({ graceMs, endLongAnswers, flushMs = 1000 }) {
      drain();
      listening = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (await settlesWithin(closed, graceMs)) return { cut: 0 };
      endLongAnswers();
      if (await settlesWithin(closed, flushMs)) return { cut: 0 };
      const cut = inFlight.size;
      server.closeAllConnections();
      await closed;
      return { cut };
    },
  };
}

/** True when `promise` settled within `ms`. */
async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
