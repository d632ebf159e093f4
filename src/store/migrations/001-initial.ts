import type { Migration } from '../migrations.js';

/** Clusters, their operations and event streams, API tokens and idempotency keys. */
export const initial: Migration = {
  version: 1,
  name: 'initial',
  statements: [
    `CREATE TABLE clusters (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      team text NOT NULL,
      blueprint text NOT NULL,
      labels jsonb NOT NULL DEFAULT '{}',
      spec jsonb NOT NULL,
      generation integer NOT NULL CHECK (generation >= 1),
      applied_spec jsonb,
      applied_generation integer,
      status text NOT NULL CHECK (status IN ('provisioning', 'ready', 'updating', 'failed', 'destroying', 'destroyed')),
      outputs jsonb NOT NULL DEFAULT '{}',
      last_operation_id uuid,
      lane_owner text,
      lane_expires_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      destroyed_at timestamptz,
      -- destroyed_at is what frees the name, so it must agree with the status.
      CONSTRAINT clusters_destroyed_at CHECK ((status = 'destroyed') = (destroyed_at IS NOT NULL))
    )`,
    // A name belongs to at most one live cluster; destroyed ones keep their name for history.
    `CREATE UNIQUE INDEX clusters_live_name ON clusters (name) WHERE destroyed_at IS NULL`,
    `CREATE INDEX clusters_name_id ON clusters (name, id)`,
    `CREATE INDEX clusters_team_name_id ON clusters (team, name, id)`,
    `CREATE TABLE operations (
      id uuid PRIMARY KEY,
      cluster_id uuid NOT NULL REFERENCES clusters (id),
      seq bigserial NOT NULL UNIQUE,
      kind text NOT NULL CHECK (kind IN ('provision', 'update', 'destroy', 'preview', 'refresh', 'drift-check')),
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded')),
      spec jsonb NOT NULL,
      generation integer NOT NULL,
      requested_by text NOT NULL,
      cancel_requested boolean NOT NULL DEFAULT false,
      summary jsonb,
      outputs jsonb,
      error jsonb,
      superseded_by uuid REFERENCES operations (id),
      attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      queued_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz
    )`,
    `CREATE INDEX operations_cluster_seq ON operations (cluster_id, seq)`,
    // The reconciler and the pending list only ever look at unfinished operations.
    `CREATE INDEX operations_unfinished ON operations (cluster_id, seq) WHERE status IN ('queued', 'running')`,
    `ALTER TABLE clusters ADD CONSTRAINT clusters_last_operation_fk FOREIGN KEY (last_operation_id) REFERENCES operations (id)`,
    `CREATE TABLE operation_events (
      operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
      seq integer NOT NULL CHECK (seq >= 1),
      at timestamptz NOT NULL DEFAULT now(),
      type text NOT NULL CHECK (type IN ('engine', 'log', 'status')),
      data jsonb NOT NULL DEFAULT 'null',
      PRIMARY KEY (operation_id, seq)
    )`,
    `CREATE TABLE api_tokens (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      team text,
      admin boolean NOT NULL DEFAULT false,
      hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE TABLE idempotency_keys (
      principal_id text NOT NULL,
      key text NOT NULL,
      fingerprint text NOT NULL,
      status text NOT NULL CHECK (status IN ('in-flight', 'done')),
      status_code integer,
      body jsonb,
      headers jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (principal_id, key)
    )`,
  ],
};
