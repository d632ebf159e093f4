import type { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { OperationFeedHub } from '../src/events/operation-feed-hub.js';
import { frameOf, type FeedEvent } from '../src/events/operation-feed.js';
import type { OperationService } from '../src/lifecycle/operation-service.js';
import type { Principal } from '../src/auth/principal.js';
import type { endEventDataSchema, shutdownEventDataSchema } from './schemas/operation-event.js';
import type { StreamSlots } from './stream-slots.js';
import { streamPosition } from './stream-position.js';

export interface EventStreamOptions {
  /** How often a comment line keeps proxies from closing an idle stream. @defaultValue 15000 */
  keepAliveMs: number;
}

/** What an event stream needs: visibility, the process's feeds, and its stream caps. */
export interface EventStreamDeps {
  operations: Pick<OperationService, 'get'>;
  feeds: Pick<OperationFeedHub, 'join' | 'readEvents'>;
  slots: Pick<StreamSlots, 'acquire'>;
  /**
   * Aborted when the server shuts down and open streams must end (at the end of the HTTP grace):
   * each stream then sends a `shutdown` event and ends, and the client resumes elsewhere with
   * Last-Event-ID. @defaultValue never
   */
  shutdown?: AbortSignal;
}

/** Events read or written per step; a stream further behind catches up in steps of this size. */
const BATCH = 500;

// Unlike events.once, never rejects: a socket error ends the stream through 'close' anyway.
export const settlesOn = (emitter: EventEmitter, event: string) => new Promise<void>((resolve) => emitter.once(event, () => resolve()));

/** Settles when `signal` aborts; `off()` removes the listener (streams come and go, the signal stays). */
export function abortOf(signal: AbortSignal | undefined): { aborted: Promise<void>; off(): void } {
  let off: () => void = () => undefined;
  const aborted = new Promise<void>((resolve) => {
    if (!signal) return;
    if (signal.aborted) return resolve();
    const onAbort = () => resolve();
    signal.addEventListener('abort', onAbort, { once: true });
    off = () => signal.removeEventListener('abort', onAbort);
  });
  return { aborted, off: () => off() };
}

/** The last frame of a stream ended by a shutdown: `retry` tells EventSource clients when to reconnect. */
export const shutdownFrame = (resumeAfter: number) =>
  `retry: 1000\nevent: shutdown\ndata: ${JSON.stringify({ reason: 'the server is shutting down; reconnect to resume', resumeAfter } satisfies z.infer<typeof shutdownEventDataSchema>)}\n\n`;

/**
 * Streams an operation's events as Server-Sent Events. Each event's id is its sequence number,
 * so a client reconnecting with Last-Event-ID resumes right after the last one it saw; a finished
 * operation replays in full (none once retention removed its events) and the stream ends with an `end` event carrying the final status
 * (or, when the server shuts down first, a `shutdown` event: resume elsewhere).
 * The stream never polls: it waits on its operation's feed, which the database's notifications
 * wake, and writes from the feed's memory; only a stream that is behind reads the records.
 */
export async function streamOperationEvents(
  deps: EventStreamDeps,
  principal: Principal,
  id: string,
  req: Request,
  res: Response,
  options: EventStreamOptions,
): Promise<void> {
  await openEventStream(
    deps.slots,
    principal,
    req,
    res,
    () => deps.operations.get(principal, id),
    (after) => pump(deps.feeds, id, after, res, options, deps.shutdown),
  );
}

/**
 * Opens an event stream in one of the caller's stream slots: reads where it starts (Last-Event-ID or
 * `?after=`), asks `visible` (which throws NotFoundError for what the caller may not see) before any
 * byte is sent, so that a refusal is a proper problem answer, then sends the headers and runs `pump`.
 */
export async function openEventStream<T>(
  slots: EventStreamDeps['slots'],
  principal: Principal,
  req: Request,
  res: Response,
  visible: () => Promise<T>,
  pump: (after: number, seen: T) => Promise<void>,
): Promise<void> {
  const after = streamPosition(req);
  const release = slots.acquire(principal.tokenId);
  try {
    const seen = await visible();
    res.status(200).set({
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'private, no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    await pump(after, seen);
  } finally {
    release();
  }
}

async function pump(
  feeds: EventStreamDeps['feeds'],
  id: string,
  after: number,
  res: Response,
  options: EventStreamOptions,
  shutdown?: AbortSignal,
): Promise<void> {
  let open = !res.closed;
  const closed = settlesOn(res, 'close').then(() => void (open = false));
  const ending = abortOf(shutdown);
  const reader = { after };
  const { feed, leave } = feeds.join(id, reader);
  let lastWrite = Date.now();
  try {
    while (open) {
      if (shutdown?.aborted) {
        res.write(shutdownFrame(reader.after));
        break;
      }
      // Asked before looking, so that a change while this stream reads the records is not missed.
      const change = feed.nextChange();
      const finalStatus = feed.finished ? feed.status : null;
      const events: FeedEvent[] = feed.recent(reader.after, BATCH) ?? (await feeds.readEvents(id, reader.after, BATCH)).map(frameOf);
      if (!open) break;
      if (events.length) {
        const flowing = res.write(events.map((e) => e.frame).join(''));
        reader.after = events.at(-1)!.seq;
        lastWrite = Date.now();
        // A client that does not read holds its own stream back, not the process's memory.
        if (!flowing) await Promise.race([settlesOn(res, 'drain'), closed]);
        continue;
      }
      if (feed.gone) break;
      // The final status was known before looking, so nothing written before it remains.
      if (finalStatus) {
        res.write(`event: end\ndata: ${JSON.stringify({ status: finalStatus } satisfies z.infer<typeof endEventDataSchema>)}\n\n`);
        break;
      }
      const quietFor = Date.now() - lastWrite;
      if (quietFor >= options.keepAliveMs) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const keepAlive = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.keepAliveMs - quietFor)));
      await Promise.race([change, closed, keepAlive, ending.aborted]);
      clearTimeout(timer);
    }
  } finally {
    ending.off();
    leave();
    res.end();
  }
}
