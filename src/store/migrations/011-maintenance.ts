import type { Migration } from '../migrations.js';

/**
 * Maintenance windows. A cluster's own policy, else its team's (team_settings), decides when work
 * the service starts on its own may start. Such an operation carries `respect_maintenance`; while
 * its window is closed the lane passes over it and notes why (`waiting_for`) and until when
 * (`waiting_until`, which also keeps the reconciler from waking its lane before then). A rollout
 * member waits the same way before its first step.
 */
export const maintenance: Migration = {
  version: 11,
  name: 'maintenance',
  statements: [
    'ALTER TABLE clusters ADD COLUMN maintenance jsonb',
    `CREATE TABLE team_settings (
      team text PRIMARY KEY,
      maintenance jsonb,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`,
    'ALTER TABLE operations ADD COLUMN respect_maintenance boolean NOT NULL DEFAULT false',
    'ALTER TABLE operations ADD COLUMN waiting_for jsonb',
    'ALTER TABLE operations ADD COLUMN waiting_until timestamptz',
    'ALTER TABLE rollout_members ADD COLUMN waiting_for jsonb',
  ],
};
