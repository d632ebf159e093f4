import type { Logger } from 'pino';
import type { EngineEvent } from '../src/engine/engine.js';

/**
 * Batches engine events into the record store in arrival order: one write in flight at a time,
 * everything that arrived meanwhile goes in the next write. An engine emits hundreds of events
 * a second on a big stack; one insert each would make the store the bottleneck.
 */
export class EventBuffer {
  private pending: EngineEvent[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly write: (batch: EngineEvent[]) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  /** Queues an event; resolves when it is written. */
  push(event: EngineEvent): Promise<void> {
    this.pending.push(event);
    return this.flush();
  }

  private flush(): Promise<void> {
    if (!this.flushing) {
      this.flushing = (async () => {
        while (this.pending.length) {
          const batch = this.pending.splice(0, 500);
          try {
            await this.write(batch);
          } catch (err) {
            // Events are a record of progress, not of state: losing some must not fail the operation.
            this.log.warn({ err, lost: batch.length }, 'could not store operation events');
          }
        }
        this.flushing = null;
      })();
    }
    return this.flushing;
  }

  /** Waits until everything pushed so far is written. */
  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
  }
}
