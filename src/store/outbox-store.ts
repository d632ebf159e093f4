import { randomUUID } from 'node:crypto';
import { uuidOrNil } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** Topics of outbox entries; each has one handler in the relay. */
export const OUTBOX_TOPICS = ['operation.finished', 'rollout.event', 'support.notice', 'operation.approval'] as const;
export type OutboxTopic = (typeof OUTBOX_TOPICS)[number];

/** Something that must follow a committed change. */
export interface OutboxEntry {
  /** Stable across retries: consequences derive their own ids from it, so a retry repeats nothing. */
  id: string;
  topic: OutboxTopic;
  /** What it is about: an operation id for `operation.finished`. */
  subject: string;
  createdAt: string;
  /** Claims so far, this one included. */
  attempts: number;
}

/** The relay's side of the outbox; entries are written by the stores, in the transaction of the change. */
export interface OutboxStore {
  /** Claims up to `limit` due entries (oldest first) for `holdMs`: nobody else takes them until then. */
  claimDue(limit: number, holdMs: number): Promise<OutboxEntry[]>;
  /** Claims one entry if it is due (a relay kicked right after the commit); null when absent or claimed. */
  claim(topic: OutboxTopic, subject: string, holdMs: number): Promise<OutboxEntry | null>;
  /** The entry's consequences are done. */
  remove(id: string): Promise<void>;
  /** The attempt failed: it is due again after `retryInMs`. */
  failed(id: string, error: string, retryInMs: number): Promise<void>;
}

interface Row {
  id: string;
  topic: OutboxTopic;
  subject: string;
  created_at: string;
  attempts: number;
}
const toEntry = (r: Row): OutboxEntry => ({ id: r.id, topic: r.topic, subject: r.subject, createdAt: r.created_at, attempts: r.attempts });
const HOLD = `now() + $2::double precision * interval '1 millisecond'`;

/** Records an entry inside the caller's transaction; a second one for the same topic and subject is a no-op. */
export async function addToOutbox(tx: SqlClient, topic: OutboxTopic, subject: string): Promise<void> {
  await tx.query('INSERT INTO outbox (id, topic, subject) VALUES ($1, $2, $3) ON CONFLICT (topic, subject) DO NOTHING', [
    randomUUID(),
    topic,
    subject,
  ]);
}

/** {@link OutboxStore} over PostgreSQL or PGlite. */
export class SqlOutboxStore implements OutboxStore {
  constructor(private readonly db: SqlClient) {}

  async claimDue(limit: number, holdMs: number): Promise<OutboxEntry[]> {
    // SKIP LOCKED: relays of several workers claim disjoint entries instead of queueing behind each other.
    const { rows } = await this.db.query<Row>(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ${HOLD}
       WHERE id IN (SELECT id FROM outbox WHERE next_attempt_at <= now() ORDER BY next_attempt_at, created_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id, topic, subject, created_at, attempts`,
      [limit, holdMs],
    );
    return rows.map(toEntry).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async claim(topic: OutboxTopic, subject: string, holdMs: number): Promise<OutboxEntry | null> {
    const { rows } = await this.db.query<Row>(
      `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ${HOLD}
       WHERE topic = $1 AND subject = $3 AND next_attempt_at <= now() RETURNING id, topic, subject, created_at, attempts`,
      [topic, holdMs, subject],
    );
    return rows[0] ? toEntry(rows[0]) : null;
  }

  async remove(id: string): Promise<void> {
    await this.db.query('DELETE FROM outbox WHERE id = $1', [uuidOrNil(id)]);
  }

  async failed(id: string, error: string, retryInMs: number): Promise<void> {
    await this.db.query(`UPDATE outbox SET last_error = $3, next_attempt_at = ${HOLD} WHERE id = $1`, [
      uuidOrNil(id),
      retryInMs,
      error.slice(0, 500),
    ]);
  }
}
