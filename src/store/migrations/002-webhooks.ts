import type { Migration } from '../migrations.js';

/** Webhook subscriptions, one delivery per (event, subscription), and every attempt of a delivery. */
export const webhooks: Migration = {
  version: 2,
  name: 'webhooks',
  statements: [
    `CREATE TABLE webhook_subscriptions (
      id uuid PRIMARY KEY,
      -- NULL: every team's events (only an admin token creates these).
      team text,
      url text NOT NULL,
      -- A JSON array of event type names (jsonb, parsed the same by both drivers; matched with ?).
      event_types jsonb NOT NULL CHECK (jsonb_typeof(event_types) = 'array' AND jsonb_array_length(event_types) >= 1),
      description text,
      -- Needed in clear to sign deliveries; never returned after creation, never in job data or logs.
      signing_secret text NOT NULL,
      created_by text NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX webhook_subscriptions_team ON webhook_subscriptions (team, created_at, id)`,
    `CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY,
      seq bigserial NOT NULL UNIQUE,
      subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
      event_id uuid NOT NULL,
      event_type text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      last_status_code integer,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      -- When the queue should next try it; a pending delivery long past this lost its job.
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      UNIQUE (subscription_id, event_id)
    )`,
    `CREATE INDEX webhook_deliveries_subscription_seq ON webhook_deliveries (subscription_id, seq)`,
    `CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending'`,
    `CREATE TABLE webhook_delivery_attempts (
      delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
      attempt integer NOT NULL CHECK (attempt >= 1),
      at timestamptz NOT NULL,
      status_code integer,
      error text,
      duration_ms integer NOT NULL CHECK (duration_ms >= 0),
      PRIMARY KEY (delivery_id, attempt)
    )`,
  ],
};
