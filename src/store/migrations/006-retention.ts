import type { Migration } from '../migrations.js';

/** What the retention pass needs: operations may drop their spec copy once finished, and indexes for the deletes. */
export const retention: Migration = {
  version: 6,
  name: 'retention',
  statements: [
    // The spec copy only matters while the operation may still run; the cluster keeps desired and applied specs.
    `ALTER TABLE operations ALTER COLUMN spec DROP NOT NULL`,
    `ALTER TABLE operations ADD CONSTRAINT operations_spec_until_finished CHECK (spec IS NOT NULL OR finished_at IS NOT NULL)`,
    `CREATE INDEX operations_spec_kept ON operations (finished_at) WHERE spec IS NOT NULL AND finished_at IS NOT NULL`,
    // Also what the foreign key from operations needs when a sweep is deleted.
    `CREATE INDEX operations_sweep ON operations (sweep_id) WHERE sweep_id IS NOT NULL`,
    `CREATE INDEX operation_events_at ON operation_events (at)`,
    `CREATE INDEX idempotency_keys_updated ON idempotency_keys (updated_at)`,
    `CREATE INDEX webhook_deliveries_settled ON webhook_deliveries (finished_at) WHERE status <> 'pending'`,
    `CREATE INDEX drift_reports_checked ON drift_reports (checked_at)`,
    `CREATE INDEX drift_sweeps_finished ON drift_sweeps (finished_at) WHERE status <> 'running'`,
    `CREATE INDEX kubeconfig_reads_at ON kubeconfig_reads (read_at)`,
  ],
};
