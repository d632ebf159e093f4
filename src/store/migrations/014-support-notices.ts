import type { Migration } from '../migrations.js';

/**
 * The `cluster.support-ending` warnings sent: one row per cluster, Kubernetes version and threshold
 * (days before the end of standard support), so that each goes out once, and again for the next
 * version after an upgrade. The row announced carries the event's data; its outbox entry is
 * committed with it.
 */
export const supportNotices: Migration = {
  version: 14,
  name: 'support-notices',
  statements: [
    `CREATE TABLE support_notices (
      cluster_id uuid NOT NULL REFERENCES clusters (id) ON DELETE CASCADE,
      version text NOT NULL,
      threshold_days integer NOT NULL,
      at timestamptz NOT NULL DEFAULT now(),
      data jsonb,
      PRIMARY KEY (cluster_id, version, threshold_days)
    )`,
    'ALTER TABLE outbox DROP CONSTRAINT outbox_topic_check',
    `ALTER TABLE outbox ADD CONSTRAINT outbox_topic_check CHECK (topic IN ('operation.finished', 'rollout.event', 'support.notice'))`,
  ],
};
