import type { DriftReport, DriftSweep, Remediation } from '../domain/drift.js';
import type { Page } from '../domain/page.js';

export type NewDriftReport = Omit<DriftReport, 'id' | 'checkedAt' | 'clusterName' | 'team' | 'blueprint'>;

/** Latest drift state of the fleet: one count per outcome of each live cluster's latest check. */
export interface FleetDriftCounts {
  clusters: number;
  checked: number;
  clean: number;
  drifted: number;
  failed: number;
  neverChecked: number;
}

export interface FleetDriftSummary extends FleetDriftCounts {
  byTeam: Record<string, FleetDriftCounts>;
  byBlueprint: Record<string, FleetDriftCounts>;
}

/** Drift reports and fleet sweeps. Every method is atomic. */
export interface DriftStore {
  /** Starts a sweep; throws ConflictError naming the running sweep if there is one (a stale one is failed first). */
  startSweep(sweep: { trigger: DriftSweep['trigger']; requestedBy: string; maxConcurrent: number; staleMs: number }): Promise<DriftSweep>;
  getSweep(id: string): Promise<DriftSweep | null>;
  /** Keeps the running sweep from looking stale; sets its total when given. False if it is no longer running. */
  heartbeatSweep(id: string, total?: number): Promise<boolean>;
  finishSweep(id: string, end: { status: 'succeeded' | 'failed'; skipped: DriftSweep['skipped']; error?: string }): Promise<void>;

  /** Files the report of a finished check; one per operation: filing it again returns the one filed first. */
  recordReport(report: NewDriftReport): Promise<DriftReport>;
  setRemediation(reportId: string, remediation: Remediation): Promise<void>;
  /** Newest first. */
  listReports(clusterId: string, limit: number, cursor?: string): Promise<Page<DriftReport>>;
  /** Over live clusters, optionally of one team. */
  fleetSummary(team?: string): Promise<FleetDriftSummary>;
}
