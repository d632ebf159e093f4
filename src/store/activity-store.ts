import type { Activity, ActivitySource } from '../metrics/service-metrics.js';
import type { SqlClient } from './sql.js';

/** {@link ActivitySource} over PostgreSQL or PGlite: one statement, from indexes (lanes held, unfinished operations). */
export class SqlActivityStore implements ActivitySource {
  constructor(private readonly db: Pick<SqlClient, 'query'>) {}

  async activity(): Promise<Activity> {
    const { rows } = await this.db.query<{
      lanes_held: number;
      unfinished: Activity['unfinished'] | null;
      drift: Activity['drift'] | null;
    }>(
      `SELECT
         (SELECT count(*)::int FROM clusters WHERE lane_owner IS NOT NULL AND lane_expires_at >= now()) AS lanes_held,
         (SELECT json_agg(json_build_object('status', status, 'count', n)) FROM
            (SELECT status, count(*)::int AS n FROM operations WHERE status IN ('queued', 'running', 'awaiting-approval') GROUP BY status) s) AS unfinished,
         (SELECT json_agg(json_build_object('blueprint', blueprint, 'state', state, 'count', n)) FROM
            (SELECT c.blueprint, coalesce(latest.status, 'never-checked') AS state, count(*)::int AS n FROM clusters c
             LEFT JOIN LATERAL (SELECT r.status FROM drift_reports r WHERE r.cluster_id = c.id ORDER BY r.checked_at DESC, r.id DESC LIMIT 1) latest ON true
             WHERE c.destroyed_at IS NULL GROUP BY 1, 2) d) AS drift`,
    );
    const row = rows[0]!;
    return { lanesHeld: row.lanes_held, unfinished: row.unfinished ?? [], drift: row.drift ?? [] };
  }
}
