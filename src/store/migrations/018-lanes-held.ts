import type { Migration } from '../migrations.js';

/** `/metrics` counts the lanes held at every scrape: from this index, not a scan of the fleet. */
export const lanesHeld: Migration = {
  version: 18,
  name: 'lanes-held',
  statements: [`CREATE INDEX clusters_lanes_held ON clusters (lane_expires_at) WHERE lane_owner IS NOT NULL`],
};
