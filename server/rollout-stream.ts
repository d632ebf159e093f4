import type { Request, Response } from 'express';
import type { z } from 'zod';
import type { Principal } from '../src/auth/principal.js';
import type { RolloutStatus } from '../src/domain/rollout.js';
import type { RolloutService } from '../src/rollouts/rollout-service.js';
import type { rolloutEndEventDataSchema } from './schemas/rollout-event.js';
import { abortOf, openEventStream, settlesOn, shutdownFrame, type EventStreamDeps } from './sse.js';

export interface RolloutStreamOptions {
  keepAliveMs: number;
  /** How often a stream looks for new events: a rollout moves at the pace of its driver. Milliseconds. */
  pollMs: number;
}

/** Events read per step; a stream further behind catches up in steps of this size. */
const BATCH = 500;

/**
 * Streams a rollout's events as Server-Sent Events, with the conventions of an operation's stream:
 * each event's id is its sequence number (resume with Last-Event-ID), a finished rollout replays in
 * full and ends with `end` carrying its final status, a shutdown ends the stream with `shutdown`.
 * Rollouts move every driver pass (a second), so the stream polls the records at about that pace.
 */
export async function streamRolloutEvents(
  deps: { rollouts: Pick<RolloutService, 'get' | 'events'> } & Pick<EventStreamDeps, 'slots' | 'shutdown'>,
  principal: Principal,
  id: string,
  req: Request,
  res: Response,
  options: RolloutStreamOptions,
): Promise<void> {
  await openEventStream(
    deps.slots,
    principal,
    req,
    res,
    () => deps.rollouts.get(principal, id),
    (after, rollout) => pump(deps, id, after, rollout.finishedAt ? rollout.status : null, res, options),
  );
}

async function pump(
  deps: { rollouts: Pick<RolloutService, 'events'> } & Pick<EventStreamDeps, 'shutdown'>,
  id: string,
  from: number,
  finishedAs: RolloutStatus | null,
  res: Response,
  options: RolloutStreamOptions,
): Promise<void> {
  let after = from;
  let finalStatus = finishedAs;
  let open = !res.closed;
  const closed = settlesOn(res, 'close').then(() => void (open = false));
  const ending = abortOf(deps.shutdown);
  let lastWrite = Date.now();
  try {
    while (open) {
      if (deps.shutdown?.aborted) {
        res.write(shutdownFrame(after));
        break;
      }
      const events = await deps.rollouts.events(id, after, BATCH);
      if (!open) break;
      if (events.length) {
        const frames = events.map((e) => `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ at: e.at, data: e.data })}\n\n`);
        const flowing = res.write(frames.join(''));
        after = events.at(-1)!.seq;
        lastWrite = Date.now();
        const finished = [...events].reverse().find((e) => e.type === 'finished');
        if (finished) finalStatus = finished.data.status as RolloutStatus;
        if (!flowing) await Promise.race([settlesOn(res, 'drain'), closed]);
        continue;
      }
      if (finalStatus) {
        res.write(`event: end\ndata: ${JSON.stringify({ status: finalStatus } satisfies z.infer<typeof rolloutEndEventDataSchema>)}\n\n`);
        break;
      }
      if (Date.now() - lastWrite >= options.keepAliveMs) {
        res.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.pollMs)));
      await Promise.race([tick, closed, ending.aborted]);
      clearTimeout(timer);
    }
  } finally {
    ending.off();
    res.end();
  }
}
