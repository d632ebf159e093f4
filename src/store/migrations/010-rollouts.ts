import type { Migration } from '../migrations.js';

/**
 * Fleet rollouts. A rollout's whole state is here, so that any worker can drive it after any
 * restart: the stages (with their soak and approval times) on the rollout row, one row per member.
 * A member `holds` its cluster until the rollout is over: the unique index keeps a cluster in one
 * unfinished rollout at a time, whatever races. The driver lease names the worker driving it.
 */
export const rollouts: Migration = {
  version: 10,
  name: 'rollouts',
  statements: [
    `CREATE TABLE rollouts (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      team text,
      requested_by text NOT NULL,
      started_by_token text NOT NULL,
      selector jsonb NOT NULL,
      change jsonb NOT NULL,
      on_invalid text NOT NULL,
      wait_for_clean_drift_check boolean NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'running', 'soaking', 'awaiting-approval', 'paused', 'halted', 'succeeded', 'cancelled')),
      reason text,
      current_stage integer NOT NULL DEFAULT 0,
      stages jsonb NOT NULL,
      excluded jsonb NOT NULL,
      driver_id text,
      driver_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz
    )`,
    `CREATE INDEX rollouts_unfinished ON rollouts (created_at, id) WHERE finished_at IS NULL`,
    `CREATE INDEX rollouts_newest ON rollouts (created_at DESC, id DESC)`,
    `CREATE TABLE rollout_members (
      rollout_id uuid NOT NULL REFERENCES rollouts (id),
      cluster_id uuid NOT NULL REFERENCES clusters (id),
      cluster_name text NOT NULL,
      team text NOT NULL,
      position integer NOT NULL,
      stage integer NOT NULL,
      state text NOT NULL CHECK (state IN ('pending', 'running', 'verifying', 'succeeded', 'failed', 'skipped', 'cancelled')),
      steps jsonb NOT NULL,
      steps_done integer NOT NULL DEFAULT 0,
      operation_ids jsonb NOT NULL DEFAULT '[]',
      current_operation uuid,
      error jsonb,
      reason text,
      attempts integer NOT NULL DEFAULT 0,
      started_at timestamptz,
      finished_at timestamptz,
      holds boolean NOT NULL DEFAULT true,
      PRIMARY KEY (rollout_id, cluster_id)
    )`,
    `CREATE UNIQUE INDEX rollout_members_one_hold ON rollout_members (cluster_id) WHERE holds`,
  ],
};
