import type { OperationError, ResourceChange } from './operation.js';

/** What a drift check concluded: nothing differs, something differs, or the check could not run. */
export const DRIFT_STATUSES = ['clean', 'drifted', 'failed'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/** What the service did about drift under the cluster's policy. */
export interface Remediation {
  action: 'none' | 'notified' | 'remediating' | 'skipped';
  /** Why, when skipped (e.g. the last update of the cluster failed). */
  reason?: string;
  /** The `remediate` operation queued, when remediating. */
  operationId?: string;
}

/** The result of one drift check of one cluster. */
export interface DriftReport {
  id: string;
  clusterId: string;
  clusterName: string;
  team: string;
  blueprint: string;
  operationId: string;
  /** The sweep that asked for the check, or null for a check someone asked for. */
  sweepId: string | null;
  checkedAt: string;
  status: DriftStatus;
  /** `cloud` (live resources differ from the state) and/or `spec` (the state differs from the desired spec). */
  kinds: Array<'cloud' | 'spec'>;
  /** Drifted resources with the properties that differ (secret values masked). */
  resources: ResourceChange[];
  error: OperationError | null;
  remediation: Remediation;
}

export const SWEEP_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];

/** A pass over the fleet: one drift check per cluster not being changed, at most `maxConcurrent` at once. */
export interface DriftSweep {
  id: string;
  trigger: 'schedule' | 'manual';
  requestedBy: string;
  status: SweepStatus;
  maxConcurrent: number;
  /** Clusters the sweep set out to check. */
  total: number;
  clean: number;
  drifted: number;
  failed: number;
  /** Clusters left unchecked because they stayed busy with other operations until the sweep gave up on them. */
  skipped: Array<{ cluster: string; reason: string }>;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
}

/** What a finished drift check found, as filed with its outcome. */
export interface DriftFindings {
  status: DriftStatus;
  kinds: Array<'cloud' | 'spec'>;
  resources: ResourceChange[];
  error: OperationError | null;
}

/** The findings of a drift check that ended `succeeded` or `failed`; null for any other end (a cancelled check found nothing). */
export function driftFindings(result: {
  status: string;
  summary: { resources: ResourceChange[] } | null;
  error: OperationError | null;
}): DriftFindings | null {
  if (result.status !== 'succeeded' && result.status !== 'failed') return null;
  const resources = (result.summary?.resources ?? []).filter((r) => r.drift);
  const kinds = [...new Set(resources.map((r) => r.drift!))].sort();
  const status = result.status === 'failed' ? 'failed' : resources.length ? 'drifted' : 'clean';
  return { status, kinds, resources, error: result.error };
}
