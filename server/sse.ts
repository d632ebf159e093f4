import type { Request, Response } from 'express';
import { TERMINAL_STATUSES } from '../src/domain/operation.js';
import type { OperationService } from '../src/lifecycle/operation-service.js';
import type { Principal } from '../src/store/record-store.js';
import { streamPosition } from './stream-position.js';

export interface EventStreamOptions {
  /** How often new events are looked for while the operation runs. @defaultValue 250 */
  pollMs: number;
  /** How often a comment line keeps proxies from closing an idle stream. @defaultValue 15000 */
  keepAliveMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Streams an operation's events as Server-Sent Events. Each event's id is its sequence number,
 * so a client reconnecting with Last-Event-ID resumes right after the last one it saw; a finished
 * operation replays in full and the stream ends with an `end` event carrying the final status.
 */
export async function streamOperationEvents(
  operations: OperationService,
  principal: Principal,
  id: string,
  req: Request,
  res: Response,
  options: EventStreamOptions,
): Promise<void> {
  let after = streamPosition(req);
  // Visibility is checked before any byte is sent, so a 404 is a proper problem answer.
  await operations.get(principal, id);
  res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  res.flushHeaders();
  let closed = false;
  req.on('close', () => (closed = true));
  let lastWrite = Date.now();
  while (!closed) {
    const { operation, events } = await operations.events(principal, id, after, 500);
    for (const e of events) {
      res.write(`id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ at: e.at, data: e.data })}\n\n`);
      after = e.seq;
    }
    if (events.length) lastWrite = Date.now();
    if (events.length === 500) continue;
    // Terminal status is read with the same batch, so no event written before it can be missed.
    if (TERMINAL_STATUSES.has(operation.status)) {
      res.write(`event: end\ndata: ${JSON.stringify({ status: operation.status })}\n\n`);
      break;
    }
    if (Date.now() - lastWrite > options.keepAliveMs) {
      res.write(': keep-alive\n\n');
      lastWrite = Date.now();
    }
    await sleep(options.pollMs);
  }
  res.end();
}
