import type { Migration } from '../migrations.js';

/**
 * The processes of the service that share these records, each renewing its row while it runs: what
 * lets a process starting on another machine see that a `file://` state backend (one machine's
 * directory) or a different backend is already in use by the others, and refuse to start.
 */
export const serviceProcesses: Migration = {
  version: 20,
  name: 'service-processes',
  statements: [
    `CREATE TABLE service_processes (
      id text PRIMARY KEY,
      host text NOT NULL,
      role text NOT NULL CHECK (role IN ('all', 'api', 'worker')),
      backend text NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      seen_at timestamptz NOT NULL DEFAULT now()
    )`,
    `CREATE INDEX service_processes_seen ON service_processes (seen_at)`,
  ],
};
