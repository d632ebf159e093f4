import type { Migration } from '../migrations.js';

/** Drift policy and expiry on clusters, the `remediate` operation, drift reports and fleet sweeps. */
export const driftAndExpiry: Migration = {
  version: 3,
  name: 'drift-and-expiry',
  statements: [
    `ALTER TABLE clusters ADD COLUMN drift_policy text NOT NULL DEFAULT 'notify' CHECK (drift_policy IN ('none', 'notify', 'auto'))`,
    `ALTER TABLE clusters ADD COLUMN expires_at timestamptz`,
    // Warning thresholds (ms before expiry) already announced for the current expires_at; reset when it changes.
    `ALTER TABLE clusters ADD COLUMN expiry_notices jsonb NOT NULL DEFAULT '[]'`,
    `CREATE INDEX clusters_expiring ON clusters (expires_at) WHERE expires_at IS NOT NULL AND destroyed_at IS NULL`,
    `ALTER TABLE operations DROP CONSTRAINT operations_kind_check`,
    `ALTER TABLE operations ADD CONSTRAINT operations_kind_check
       CHECK (kind IN ('provision', 'update', 'destroy', 'preview', 'refresh', 'drift-check', 'remediate'))`,
    `CREATE TABLE drift_sweeps (
      id uuid PRIMARY KEY,
      trigger text NOT NULL CHECK (trigger IN ('schedule', 'manual')),
      requested_by text NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
      max_concurrent integer NOT NULL CHECK (max_concurrent >= 1),
      total integer NOT NULL DEFAULT 0,
      skipped jsonb NOT NULL DEFAULT '[]',
      error text,
      started_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`,
    // A sweep never piles on a sweep still running, whichever process starts it.
    `CREATE UNIQUE INDEX drift_sweeps_one_running ON drift_sweeps ((true)) WHERE status = 'running'`,
    `CREATE TABLE drift_reports (
      id uuid PRIMARY KEY,
      cluster_id uuid NOT NULL REFERENCES clusters (id),
      operation_id uuid NOT NULL UNIQUE REFERENCES operations (id),
      sweep_id uuid REFERENCES drift_sweeps (id),
      checked_at timestamptz NOT NULL DEFAULT now(),
      status text NOT NULL CHECK (status IN ('clean', 'drifted', 'failed')),
      kinds jsonb NOT NULL DEFAULT '[]',
      resources jsonb NOT NULL DEFAULT '[]',
      error jsonb,
      remediation jsonb NOT NULL DEFAULT '{"action": "none"}'
    )`,
    `CREATE INDEX drift_reports_cluster ON drift_reports (cluster_id, checked_at DESC, id)`,
    `CREATE INDEX drift_reports_sweep ON drift_reports (sweep_id) WHERE sweep_id IS NOT NULL`,
    // Which sweep queued an operation, so that its report can be filed under the sweep.
    `ALTER TABLE operations ADD COLUMN sweep_id uuid REFERENCES drift_sweeps (id)`,
  ],
};
