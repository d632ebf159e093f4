import type { Migration } from '../migrations.js';

/**
 * Team policies and quotas: a team's policy beside its maintenance policy, and what each cluster's
 * desired spec may grow to (the sum of its node pools' maximum sizes), kept with every desired spec
 * written so that a team's usage is one sum, read under the team's lock when a request would grow it.
 */
export const teamPolicies: Migration = {
  version: 15,
  name: 'team-policies',
  statements: [
    'ALTER TABLE team_settings ADD COLUMN policy jsonb',
    'ALTER TABLE clusters ADD COLUMN node_capacity integer NOT NULL DEFAULT 0',
    'CREATE INDEX clusters_live_team ON clusters (team) WHERE destroyed_at IS NULL',
  ],
};
