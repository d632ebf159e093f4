import type { Logger } from 'pino';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { OutboxEntry, OutboxStore, OutboxTopic } from '../src/store/outbox-store.js';

/** Carries out one kind of outbox entry; must be idempotent (it may run again after a crash) and throw when it did not finish. */
export type OutboxHandler = (entry: OutboxEntry) => Promise<void>;

export interface OutboxRelayDeps {
  outbox: OutboxStore;
  /** One handler per topic: a new topic does not compile until it has one. */
  handlers: Record<OutboxTopic, OutboxHandler>;
  log: Logger;
  /** How long a claimed entry is held before another relay may take it (its relay may have died). Milliseconds. @defaultValue 60000 */
  holdMs?: number;
  /** Longest wait before a failed entry is tried again; the wait doubles from 1 s up to it. Milliseconds. @defaultValue 300000 */
  maxRetryMs?: number;
}

/** Entries claimed by one pass at most. */
const BATCH = 100;

/**
 * Carries out what committed changes recorded in the outbox, then deletes each entry: at once when a
 * process kicks it right after its commit, and on every `pass` for whatever a dead or failing process
 * left. An entry that fails stays, due again after a growing wait.
 */
export function createOutboxRelay(deps: OutboxRelayDeps) {
  const { outbox, log } = deps;
  const holdMs = deps.holdMs ?? 60_000;
  const maxRetryMs = deps.maxRetryMs ?? 300_000;

  async function handle(entry: OutboxEntry): Promise<void> {
    try {
      await deps.handlers[entry.topic](entry);
      await outbox.remove(entry.id);
    } catch (err) {
      const retryInMs = Math.min(maxRetryMs, 1000 * 2 ** Math.min(20, entry.attempts - 1));
      log.warn(
        { err, entryId: entry.id, topic: entry.topic, subject: entry.subject, attempts: entry.attempts, retryInMs },
        'outbox entry failed; it will be tried again',
      );
      await outbox.failed(entry.id, err instanceof Error ? err.message : String(err), retryInMs).catch(() => undefined);
    }
  }

  return {
    /** Carries out the entry a commit just recorded, if nobody else has claimed it. Never rejects. */
    async kick(topic: OutboxTopic, subject: string): Promise<void> {
      try {
        const entry = await outbox.claim(topic, subject, holdMs);
        if (entry) await handle(entry);
      } catch (err) {
        log.warn({ err, topic, subject }, 'could not claim an outbox entry now; the next pass will');
      }
    },
    /** One pass over every due entry; rejects when the outbox cannot be read (an entry's own failure is recorded on it). */
    async pass(): Promise<void> {
      for (let claimed = BATCH; claimed === BATCH;) {
        const entries = await outbox.claimDue(BATCH, holdMs);
        claimed = entries.length;
        for (const entry of entries) await handle(entry);
      }
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;

/** Runs the relay's pass now and every `intervalMs`, one at a time, until stopped. */
export function startOutboxPasses(relay: Pick<OutboxRelay, 'pass'>, intervalMs: number, log: Logger) {
  return startPeriodicLoop({ pass: () => relay.pass(), intervalMs, log, failureMessage: 'outbox pass failed' });
}
