import type { Migration } from '../migrations.js';

/**
 * A rollout's progress as a stream of events (GET /v1/rollouts/{id}/events), written in the same
 * transaction as the change they tell of; those that become webhooks get an outbox entry with them.
 */
export const rolloutEvents: Migration = {
  version: 12,
  name: 'rollout-events',
  statements: [
    `CREATE TABLE rollout_events (
      rollout_id uuid NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
      seq integer NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      type text NOT NULL,
      data jsonb NOT NULL,
      PRIMARY KEY (rollout_id, seq)
    )`,
    'ALTER TABLE outbox DROP CONSTRAINT outbox_topic_check',
    `ALTER TABLE outbox ADD CONSTRAINT outbox_topic_check CHECK (topic IN ('operation.finished', 'rollout.event'))`,
  ],
};
