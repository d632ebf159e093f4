import type { Migration } from '../migrations.js';

/** Who read a cluster's kubeconfig, and when: handing out admin credentials is recorded. */
export const kubeconfigReads: Migration = {
  version: 4,
  name: 'kubeconfig-reads',
  statements: [
    `CREATE TABLE kubeconfig_reads (
      id uuid PRIMARY KEY,
      cluster_id uuid NOT NULL REFERENCES clusters (id),
      read_by text NOT NULL,
      read_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX kubeconfig_reads_cluster ON kubeconfig_reads (cluster_id, read_at DESC)`,
  ],
};
