import type { Migration } from '../migrations.js';

/**
 * Fleet-wide reads from indexes alone. A cluster's latest drift report is found and read in the
 * index (ordered as the queries ask, the status beside it) instead of sorted and fetched per cluster;
 * a team's live clusters carry what the drift summary and the quota count read; a status filter on
 * the cluster list (`?status=failed`) no longer reads the whole table.
 */
export const fleetReadIndexes: Migration = {
  version: 21,
  name: 'fleet-read-indexes',
  statements: [
    'DROP INDEX drift_reports_cluster',
    'CREATE INDEX drift_reports_cluster ON drift_reports (cluster_id, checked_at DESC, id DESC) INCLUDE (status)',
    'DROP INDEX clusters_live_team',
    'CREATE INDEX clusters_live_team ON clusters (team) INCLUDE (blueprint, id, node_capacity) WHERE destroyed_at IS NULL',
    'CREATE INDEX clusters_status_name_id ON clusters (status, name, id)',
  ],
};
