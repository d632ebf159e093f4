import type { MaintenancePolicy } from '../domain/maintenance.js';
import type { MaintenanceStore, PolicyInEffect } from './maintenance-store.js';
import { isUuid, json } from './sql-helpers.js';
import type { SqlClient } from './sql.js';

/** Lets the reconciler wake, at its next pass, lanes whose operations wait for a window of these clusters. */
export const LOOK_AGAIN_AT_WAITING = `UPDATE operations SET waiting_until = NULL WHERE status = 'queued' AND waiting_until IS NOT NULL`;

/** {@link MaintenanceStore} over PostgreSQL or PGlite. */
export class SqlMaintenanceStore implements MaintenanceStore {
  constructor(private readonly db: SqlClient) {}

  async teamMaintenance(team: string): Promise<MaintenancePolicy | null> {
    const { rows } = await this.db.query<{ maintenance: MaintenancePolicy | null }>(
      'SELECT maintenance FROM team_settings WHERE team = $1',
      [team],
    );
    return rows[0]?.maintenance ?? null;
  }

  async setTeamMaintenance(team: string, policy: MaintenancePolicy | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO team_settings (team, maintenance) VALUES ($1, $2::jsonb)
         ON CONFLICT (team) DO UPDATE SET maintenance = excluded.maintenance, updated_at = now()`,
        [team, policy && json(policy)],
      );
      await tx.query(`${LOOK_AGAIN_AT_WAITING} AND cluster_id IN (SELECT id FROM clusters WHERE team = $1 AND maintenance IS NULL)`, [
        team,
      ]);
    });
  }

  async policiesInEffect(clusterIds: string[]): Promise<Map<string, PolicyInEffect | null>> {
    const ids = clusterIds.filter(isUuid);
    const found = new Map<string, PolicyInEffect | null>();
    if (!ids.length) return found;
    const { rows } = await this.db.query<{ id: string; own: MaintenancePolicy | null; team: MaintenancePolicy | null }>(
      `SELECT c.id, c.maintenance AS own, t.maintenance AS team
       FROM clusters c LEFT JOIN team_settings t ON t.team = c.team WHERE c.id = ANY($1::uuid[])`,
      [ids],
    );
    for (const r of rows) {
      found.set(r.id, r.own ? { policy: r.own, source: 'cluster' } : r.team ? { policy: r.team, source: 'team' } : null);
    }
    return found;
  }
}
