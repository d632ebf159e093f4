import { randomUUID } from 'node:crypto';
import type { DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookSubscription } from '../domain/webhook.js';
import type { Page } from '../domain/page.js';
import type { WebhookEventType, WebhookPayload } from '../domain/webhook-event.js';
import type { SqlClient } from './sql.js';
import { checkLimit, decodeCursor, encodeCursor, isOperationCursor, isUuid, json, one, page, uuidOrNil } from './sql-helpers.js';

export interface NewSubscription {
  team: string | null;
  url: string;
  eventTypes: WebhookEventType[];
  description: string | null;
  createdBy: string;
  signingSecret: string;
}

/** What the delivery processor needs to send one delivery: the only read that returns a signing secret. */
export interface DeliveryTarget {
  delivery: WebhookDelivery;
  url: string;
  signingSecret: string;
  active: boolean;
  /** The subscription's team (null: an admin's all-teams one): whose share of the delivery slots it uses. */
  team: string | null;
}

/** The result of one attempt and what it means for the delivery. */
export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** When the attempt started. */
  at: Date;
  /** `pending` when another attempt follows. */
  status: DeliveryStatus;
  /**
   * For `pending`: in how many ms the next attempt is due, counted by the database's clock from when
   * this attempt is recorded (the requeue pass of any process compares it with that same clock).
   */
  retryInMs: number | null;
}

export type DeliveryWithAttempts = WebhookDelivery & { attemptLog: DeliveryAttempt[] };

/** Largest page of deliveries one call returns. */
export const MAX_DELIVERY_PAGE = 200;

/**
 * Webhook subscriptions, deliveries and their attempts. Kept apart from the RecordStore: it shares
 * the database (and the SqlClient) but nothing else.
 */
export interface WebhookStore {
  createSubscription(s: NewSubscription): Promise<WebhookSubscription>;
  getSubscription(id: string): Promise<WebhookSubscription | null>;
  /** Oldest first; `team` set: only that team's subscriptions (not the all-teams ones). */
  listSubscriptions(filter: { team?: string }): Promise<WebhookSubscription[]>;
  /** Deletes it with its deliveries; false if there was none. */
  deleteSubscription(id: string): Promise<boolean>;
  /**
   * Records one pending delivery of the payload for every active subscription of its type whose
   * team is the event's or null (all teams), in one statement. A subscription given in `only`
   * receives it whatever its types (a ping).
   */
  recordDeliveries(payload: WebhookPayload, options?: { only?: string }): Promise<WebhookDelivery[]>;
  getDelivery(id: string): Promise<WebhookDelivery | null>;
  deliveryTarget(id: string): Promise<DeliveryTarget | null>;
  /** Appends the attempt and updates the delivery (attempts + 1, status, last code and error) atomically. */
  recordAttempt(deliveryId: string, result: AttemptResult): Promise<WebhookDelivery>;
  /** Newest first, each with its attempts (oldest first). */
  listDeliveries(subscriptionId: string, limit: number, cursor?: string): Promise<Page<DeliveryWithAttempts>>;
  /** Ids of pending deliveries whose next attempt was due more than `graceMs` ago: their job was never queued or is lost. */
  overdueDeliveries(graceMs: number, limit: number): Promise<string[]>;
}

interface SubscriptionRow {
  id: string;
  team: string | null;
  url: string;
  event_types: WebhookEventType[];
  description: string | null;
  created_by: string;
  active: boolean;
  created_at: string;
}

interface DeliveryRow {
  id: string;
  seq: number;
  subscription_id: string;
  event_id: string;
  event_type: WebhookDelivery['eventType'];
  payload: WebhookPayload;
  status: DeliveryStatus;
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  next_attempt_at: string;
  finished_at: string | null;
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: string;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

// Never `*`: the signing secret is read by deliveryTarget alone.
const SUBSCRIPTION_COLUMNS = 'id, team, url, event_types, description, created_by, active, created_at';

const toSubscription = (r: SubscriptionRow): WebhookSubscription => ({
  id: r.id,
  team: r.team,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  createdBy: r.created_by,
  active: r.active,
  createdAt: r.created_at,
});

const toDelivery = (r: DeliveryRow): WebhookDelivery => ({
  id: r.id,
  seq: r.seq,
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  eventType: r.event_type,
  payload: r.payload,
  status: r.status,
  attempts: r.attempts,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  nextAttemptAt: r.next_attempt_at,
  finishedAt: r.finished_at,
});

const toAttempt = (r: AttemptRow): DeliveryAttempt => ({
  attempt: r.attempt,
  at: r.at,
  statusCode: r.status_code,
  error: r.error,
  durationMs: r.duration_ms,
});

/** {@link WebhookStore} over PostgreSQL or PGlite (the records' SqlClient; migrations run with the RecordStore's). */
export class SqlWebhookStore implements WebhookStore {
  constructor(private readonly db: SqlClient) {}

  async createSubscription(s: NewSubscription): Promise<WebhookSubscription> {
    const { rows } = await this.db.query<SubscriptionRow>(
      `INSERT INTO webhook_subscriptions (id, team, url, event_types, description, signing_secret, created_by)
       VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7) RETURNING ${SUBSCRIPTION_COLUMNS}`,
      [randomUUID(), s.team, s.url, json(s.eventTypes), s.description, s.signingSecret, s.createdBy],
    );
    return toSubscription(one(rows[0]));
  }

  async getSubscription(id: string): Promise<WebhookSubscription | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<SubscriptionRow>(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = $1`, [id]);
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  async listSubscriptions(filter: { team?: string }): Promise<WebhookSubscription[]> {
    const { rows } = await this.db.query<SubscriptionRow>(
      `SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE ($1::text IS NULL OR team = $1) ORDER BY created_at, id`,
      [filter.team ?? null],
    );
    return rows.map(toSubscription);
  }

  async deleteSubscription(id: string): Promise<boolean> {
    const { rows } = await this.db.query('DELETE FROM webhook_subscriptions WHERE id = $1 RETURNING id', [uuidOrNil(id)]);
    return rows.length > 0;
  }

  async recordDeliveries(payload: WebhookPayload, options: { only?: string } = {}): Promise<WebhookDelivery[]> {
    // ON CONFLICT: publishing the same event twice (a retried caller) records nothing new.
    const { rows } = await this.db.query<DeliveryRow>(
      `INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, payload)
       SELECT gen_random_uuid(), id, $1::uuid, $3::text, $5::jsonb FROM webhook_subscriptions
       WHERE CASE WHEN $4::uuid IS NULL THEN active AND event_types ? $3::text AND (team IS NULL OR team = $2::text) ELSE id = $4::uuid END
       ON CONFLICT (subscription_id, event_id) DO NOTHING RETURNING *`,
      [payload.id, payload.team, payload.type, options.only === undefined ? null : uuidOrNil(options.only), json(payload)],
    );
    return rows.map(toDelivery);
  }

  async getDelivery(id: string): Promise<WebhookDelivery | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<DeliveryRow>('SELECT * FROM webhook_deliveries WHERE id = $1', [id]);
    return rows[0] ? toDelivery(rows[0]) : null;
  }

  async deliveryTarget(id: string): Promise<DeliveryTarget | null> {
    if (!isUuid(id)) return null;
    const { rows } = await this.db.query<
      DeliveryRow & { url: string; signing_secret: string; active: boolean; subscription_team: string | null }
    >(
      `SELECT d.*, s.url, s.signing_secret, s.active, s.team AS subscription_team FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = $1`,
      [id],
    );
    const row = rows[0];
    return row
      ? { delivery: toDelivery(row), url: row.url, signingSecret: row.signing_secret, active: row.active, team: row.subscription_team }
      : null;
  }

  recordAttempt(deliveryId: string, result: AttemptResult): Promise<WebhookDelivery> {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.query<DeliveryRow>(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $2, last_status_code = $3, last_error = $4, updated_at = now(),
           next_attempt_at = coalesce(now() + $5::double precision * interval '1 millisecond', next_attempt_at),
           finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
         WHERE id = $1 RETURNING *`,
        [uuidOrNil(deliveryId), result.status, result.statusCode, result.error, result.retryInMs],
      );
      const delivery = toDelivery(one(rows[0]));
      await tx.query(
        'INSERT INTO webhook_delivery_attempts (delivery_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6)',
        [
          deliveryId,
          delivery.attempts,
          result.at.toISOString(),
          result.statusCode,
          result.error,
          Math.max(0, Math.round(result.durationMs)),
        ],
      );
      return delivery;
    });
  }

  async listDeliveries(subscriptionId: string, limit: number, cursor?: string): Promise<Page<DeliveryWithAttempts>> {
    const size = checkLimit(limit, MAX_DELIVERY_PAGE);
    if (!isUuid(subscriptionId)) return { items: [], nextCursor: null };
    const before = cursor === undefined ? null : decodeCursor(cursor, isOperationCursor).seq;
    const { rows } = await this.db.query<DeliveryRow>(
      `SELECT * FROM webhook_deliveries WHERE subscription_id = $1 AND ($2::bigint IS NULL OR seq < $2::bigint) ORDER BY seq DESC LIMIT $3`,
      [subscriptionId, before, size + 1],
    );
    const result = page(rows.map(toDelivery), size, (d) => encodeCursor({ seq: d.seq }));
    const ids = result.items.map((d) => d.id);
    const { rows: attempts } = ids.length
      ? await this.db.query<AttemptRow>(
          'SELECT * FROM webhook_delivery_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt',
          [ids],
        )
      : { rows: [] };
    const byDelivery = new Map<string, DeliveryAttempt[]>();
    for (const a of attempts) byDelivery.set(a.delivery_id, [...(byDelivery.get(a.delivery_id) ?? []), toAttempt(a)]);
    return { items: result.items.map((d) => ({ ...d, attemptLog: byDelivery.get(d.id) ?? [] })), nextCursor: result.nextCursor };
  }

  async overdueDeliveries(graceMs: number, limit: number): Promise<string[]> {
    const { rows } = await this.db.query<{ id: string }>(
      `SELECT id FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at < now() - $1::double precision * interval '1 millisecond'
       ORDER BY next_attempt_at LIMIT $2`,
      [graceMs, limit],
    );
    return rows.map((r) => r.id);
  }
}
