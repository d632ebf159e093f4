import { addToOutbox } from './outbox-store.js';
import { json, uuidOrNil } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** A `cluster.support-ending` warning to send: which cluster, and the event's data. */
export interface SupportNotice {
  clusterName: string;
  team: string;
  at: string;
  data: Record<string, unknown>;
}

/** The warnings before the end of a version's standard support, each sent once per cluster, version and threshold. */
export interface SupportNoticeStore {
  /**
   * Records that the cluster, on `version`, has passed `thresholds` (days before the end of standard
   * support). The tightest one not recorded before is announced: its row keeps `data` and an outbox
   * entry is committed with it. Returns that threshold, or null when every one was recorded already
   * or the cluster is destroyed.
   */
  claimNotices(clusterId: string, version: string, thresholds: number[], data: Record<string, unknown>): Promise<number | null>;
  /** The announced warning an outbox entry's subject names; null when gone (its cluster removed). */
  getNotice(subject: string): Promise<SupportNotice | null>;
}

/** The outbox subject of an announced warning. */
const subjectOf = (clusterId: string, version: string, threshold: number) => `${clusterId}/${version}/${threshold}`;

/** {@link SupportNoticeStore} over PostgreSQL or PGlite. */
export class SqlSupportNoticeStore implements SupportNoticeStore {
  constructor(private readonly db: SqlClient) {}

  claimNotices(clusterId: string, version: string, thresholds: number[], data: Record<string, unknown>): Promise<number | null> {
    return this.db.transaction(async (tx) => {
      // The cluster's row orders two workers' passes over it; a destroyed cluster gets no warning.
      const { rows: live } = await tx.query('SELECT 1 FROM clusters WHERE id = $1 AND destroyed_at IS NULL FOR UPDATE', [
        uuidOrNil(clusterId),
      ]);
      if (!live.length) return null;
      const { rows } = await tx.query<{ threshold_days: number }>(
        `INSERT INTO support_notices (cluster_id, version, threshold_days)
         SELECT $1, $2, t FROM unnest($3::integer[]) AS t
         ON CONFLICT DO NOTHING RETURNING threshold_days`,
        [clusterId, version, thresholds],
      );
      if (!rows.length) return null;
      const announced = Math.min(...rows.map((r) => r.threshold_days));
      await tx.query('UPDATE support_notices SET data = $4 WHERE cluster_id = $1 AND version = $2 AND threshold_days = $3', [
        clusterId,
        version,
        announced,
        json({ ...data, threshold: announced }),
      ]);
      await addToOutbox(tx, 'support.notice', subjectOf(clusterId, version, announced));
      return announced;
    });
  }

  async getNotice(subject: string): Promise<SupportNotice | null> {
    const [clusterId = '', version, threshold] = subject.split('/');
    const { rows } = await this.db.query<{ name: string; team: string; at: string; data: Record<string, unknown> | null }>(
      `SELECT c.name, c.team, n.at, n.data FROM support_notices n JOIN clusters c ON c.id = n.cluster_id
       WHERE n.cluster_id = $1 AND n.version = $2 AND n.threshold_days = $3`,
      [uuidOrNil(clusterId), version, Number(threshold)],
    );
    const row = rows[0];
    if (!row?.data) return null;
    return { clusterName: row.name, team: row.team, at: row.at, data: row.data };
  }
}
