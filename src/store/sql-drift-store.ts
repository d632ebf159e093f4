import { randomUUID } from 'node:crypto';
import type { DriftReport, DriftSweep, Remediation } from '../domain/drift.js';
import { ConflictError } from '../errors.js';
import type { Page } from '../domain/page.js';
import type { DriftStore, FleetDriftCounts, FleetDriftSummary, NewDriftReport } from './drift-store.js';
import { hasSqlState, UNIQUE_VIOLATION, type SqlClient } from './sql.js';
import { checkLimit, decodeCursor, encodeCursor, isTimeCursor, isUuid, json, one, page, uuidOrNil } from './sql-helpers.js';

interface SweepRow {
  id: string;
  trigger: DriftSweep['trigger'];
  requested_by: string;
  status: DriftSweep['status'];
  max_concurrent: number;
  total: number;
  skipped: DriftSweep['skipped'];
  error: string | null;
  started_at: string;
  finished_at: string | null;
  clean: number;
  drifted: number;
  failed: number;
}

interface ReportRow {
  id: string;
  cluster_id: string;
  cluster_name: string;
  team: string;
  blueprint: string;
  operation_id: string;
  sweep_id: string | null;
  checked_at: string;
  status: DriftReport['status'];
  kinds: DriftReport['kinds'];
  resources: DriftReport['resources'];
  error: DriftReport['error'];
  remediation: Remediation;
}

const SELECT_SWEEP = `SELECT s.*,
    (SELECT count(*)::int FROM drift_reports r WHERE r.sweep_id = s.id AND r.status = 'clean') AS clean,
    (SELECT count(*)::int FROM drift_reports r WHERE r.sweep_id = s.id AND r.status = 'drifted') AS drifted,
    (SELECT count(*)::int FROM drift_reports r WHERE r.sweep_id = s.id AND r.status = 'failed') AS failed
  FROM drift_sweeps s`;

const SELECT_REPORT = `SELECT r.*, c.name AS cluster_name, c.team, c.blueprint FROM drift_reports r JOIN clusters c ON c.id = r.cluster_id`;

const MAX_PAGE = 200;

/** {@link DriftStore} over the same database as the record store. */
export class SqlDriftStore implements DriftStore {
  constructor(private readonly db: SqlClient) {}

  async startSweep(sweep: {
    trigger: DriftSweep['trigger'];
    requestedBy: string;
    maxConcurrent: number;
    staleMs: number;
  }): Promise<DriftSweep> {
    // A sweep whose process died stops heartbeating; it must not block sweeps forever.
    await this.db.query(
      `UPDATE drift_sweeps SET status = 'failed', finished_at = now(), error = 'the process running the sweep stopped'
       WHERE status = 'running' AND heartbeat_at < now() - $1::double precision * interval '1 millisecond'`,
      [sweep.staleMs],
    );
    const id = randomUUID();
    try {
      await this.db.query(
        `INSERT INTO drift_sweeps (id, trigger, requested_by, status, max_concurrent) VALUES ($1, $2, $3, 'running', $4)`,
        [id, sweep.trigger, sweep.requestedBy, sweep.maxConcurrent],
      );
    } catch (err) {
      if (!hasSqlState(err, UNIQUE_VIOLATION)) throw err;
      const { rows } = await this.db.query<{ id: string }>(`SELECT id FROM drift_sweeps WHERE status = 'running'`);
      throw new ConflictError(`sweep ${rows[0]?.id ?? '?'} is still running`, { cause: err });
    }
    return one((await this.getSweep(id)) ?? undefined);
  }

  async getSweep(id: string): Promise<DriftSweep | null> {
    const { rows } = await this.db.query<SweepRow>(`${SELECT_SWEEP} WHERE s.id = $1`, [uuidOrNil(id)]);
    return rows[0] ? toSweep(rows[0]) : null;
  }

  async heartbeatSweep(id: string, total?: number): Promise<boolean> {
    const { rows } = await this.db.query(
      `UPDATE drift_sweeps SET heartbeat_at = now(), total = coalesce($2, total) WHERE id = $1 AND status = 'running' RETURNING id`,
      [uuidOrNil(id), total ?? null],
    );
    return rows.length > 0;
  }

  async finishSweep(id: string, end: { status: 'succeeded' | 'failed'; skipped: DriftSweep['skipped']; error?: string }): Promise<void> {
    await this.db.query(
      `UPDATE drift_sweeps SET status = $2, skipped = $3::jsonb, error = $4, finished_at = now() WHERE id = $1 AND status = 'running'`,
      [uuidOrNil(id), end.status, json(end.skipped), end.error ?? null],
    );
  }

  recordReport(report: NewDriftReport): Promise<DriftReport> {
    return this.db.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO drift_reports (id, cluster_id, operation_id, sweep_id, status, kinds, resources, error, remediation)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb) ON CONFLICT (operation_id) DO NOTHING`,
        [
          randomUUID(),
          report.clusterId,
          report.operationId,
          report.sweepId,
          report.status,
          json(report.kinds),
          json(report.resources),
          json(report.error),
          json(report.remediation),
        ],
      );
      const { rows } = await tx.query<ReportRow>(`${SELECT_REPORT} WHERE r.operation_id = $1`, [report.operationId]);
      return toReport(one(rows[0]));
    });
  }

  async setRemediation(reportId: string, remediation: Remediation): Promise<void> {
    await this.db.query('UPDATE drift_reports SET remediation = $2::jsonb WHERE id = $1', [uuidOrNil(reportId), json(remediation)]);
  }

  async listReports(clusterId: string, limit: number, cursor?: string): Promise<Page<DriftReport>> {
    const size = checkLimit(limit, MAX_PAGE);
    if (!isUuid(clusterId)) return { items: [], nextCursor: null };
    const after = cursor === undefined ? null : decodeCursor(cursor, isTimeCursor);
    const { rows } = await this.db.query<ReportRow>(
      `${SELECT_REPORT} WHERE r.cluster_id = $1 AND ($2::timestamptz IS NULL OR (r.checked_at, r.id) < ($2::timestamptz, $3::uuid))
       ORDER BY r.checked_at DESC, r.id DESC LIMIT $4`,
      [clusterId, after?.at ?? null, after?.id ?? null, size + 1],
    );
    return page(rows.map(toReport), size, (r) => encodeCursor({ at: r.checkedAt, id: r.id }));
  }

  async fleetSummary(team?: string): Promise<FleetDriftSummary> {
    // Counted in the database: one row per team, blueprint and state rather than one per cluster. Two
    // texts, so that each gets its own plan: every team reads the team index whole, one team a range of it.
    const { rows } = await this.db.query<{ team: string; blueprint: string; status: DriftReport['status'] | null; n: number }>(
      `SELECT c.team, c.blueprint, latest.status, count(*)::int AS n FROM clusters c
       LEFT JOIN LATERAL (SELECT r.status FROM drift_reports r WHERE r.cluster_id = c.id ORDER BY r.checked_at DESC, r.id DESC LIMIT 1) latest ON true
       WHERE c.destroyed_at IS NULL ${team === undefined ? '' : 'AND c.team = $1'}
       GROUP BY 1, 2, 3`,
      team === undefined ? [] : [team],
    );
    const summary: FleetDriftSummary = { ...emptyCounts(), byTeam: {}, byBlueprint: {} };
    for (const row of rows) {
      for (const counts of [summary, countsOf(summary.byTeam, row.team), countsOf(summary.byBlueprint, row.blueprint)]) {
        counts.clusters += row.n;
        if (row.status === null) counts.neverChecked += row.n;
        else {
          counts.checked += row.n;
          counts[row.status] += row.n;
        }
      }
    }
    return summary;
  }
}

function emptyCounts(): FleetDriftCounts {
  return { clusters: 0, checked: 0, clean: 0, drifted: 0, failed: 0, neverChecked: 0 };
}

/** The counts under `key`, made on first use. Own keys only: a team called `constructor` must not count into Object. */
function countsOf(byKey: Record<string, FleetDriftCounts>, key: string): FleetDriftCounts {
  if (!Object.hasOwn(byKey, key))
    Object.defineProperty(byKey, key, { value: emptyCounts(), enumerable: true, writable: true, configurable: true });
  return byKey[key]!;
}

function toSweep(r: SweepRow): DriftSweep {
  return {
    id: r.id,
    trigger: r.trigger,
    requestedBy: r.requested_by,
    status: r.status,
    maxConcurrent: r.max_concurrent,
    total: r.total,
    clean: r.clean,
    drifted: r.drifted,
    failed: r.failed,
    skipped: r.skipped,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

function toReport(r: ReportRow): DriftReport {
  return {
    id: r.id,
    clusterId: r.cluster_id,
    clusterName: r.cluster_name,
    team: r.team,
    blueprint: r.blueprint,
    operationId: r.operation_id,
    sweepId: r.sweep_id,
    checkedAt: r.checked_at,
    status: r.status,
    kinds: r.kinds,
    resources: r.resources,
    error: r.error,
    remediation: r.remediation,
  };
}
