import { randomUUID } from 'node:crypto';
import type { KubeconfigReadStore } from './kubeconfig-read-store.js';
import { checkLimit, MAX_PAGE_SIZE, uuidOrNil } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** {@link KubeconfigReadStore} over PostgreSQL or PGlite. */
export class SqlKubeconfigReadStore implements KubeconfigReadStore {
  constructor(private readonly db: SqlClient) {}

  async recordKubeconfigRead(clusterId: string, readBy: string): Promise<void> {
    await this.db.query('INSERT INTO kubeconfig_reads (id, cluster_id, read_by) VALUES ($1, $2, $3)', [randomUUID(), clusterId, readBy]);
  }

  async listKubeconfigReads(clusterId: string, limit: number): Promise<Array<{ readBy: string; readAt: string }>> {
    const { rows } = await this.db.query<{ read_by: string; read_at: string }>(
      'SELECT read_by, read_at FROM kubeconfig_reads WHERE cluster_id = $1 ORDER BY read_at DESC, id DESC LIMIT $2',
      [uuidOrNil(clusterId), checkLimit(limit, MAX_PAGE_SIZE)],
    );
    return rows.map((r) => ({ readBy: r.read_by, readAt: r.read_at }));
  }
}
