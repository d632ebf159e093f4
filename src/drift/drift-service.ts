import type { DriftReport, DriftSweep } from '../domain/drift.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { ClusterService } from '../lifecycle/cluster-service.js';
import type { Principal } from '../auth/principal.js';
import type { Page } from '../domain/page.js';
import type { DriftStore, FleetDriftSummary } from '../store/drift-store.js';

export interface DriftServiceDeps {
  drift: DriftStore;
  clusters: Pick<ClusterService, 'get'>;
  /** Hands a recorded sweep to the workers. */
  startSweepJob(sweepId: string): Promise<void>;
  /** @see Config.DRIFT_MAX_CONCURRENT_CHECKS */
  maxConcurrent: number;
  /** A running sweep silent for this long is considered dead. */
  staleMs: number;
}

/** Drift reports, the fleet summary and sweeps, as seen by a caller. */
export class DriftService {
  constructor(private readonly deps: DriftServiceDeps) {}

  async forCluster(
    principal: Principal,
    name: string,
    limit: number,
    cursor?: string,
  ): Promise<{ latest: DriftReport | null; history: Page<DriftReport> }> {
    const cluster = await this.deps.clusters.get(principal, name);
    const history = await this.deps.drift.listReports(cluster.id, limit, cursor);
    const latest =
      cursor === undefined ? (history.items[0] ?? null) : ((await this.deps.drift.listReports(cluster.id, 1)).items[0] ?? null);
    return { latest, history };
  }

  /** A team token sees its own team; an admin sees the fleet (or one team). */
  fleet(principal: Principal, team?: string): Promise<FleetDriftSummary> {
    return this.deps.drift.fleetSummary(principal.admin ? team : (principal.team ?? undefined));
  }

  /** Records a manual sweep (ConflictError if one is running) and queues it. */
  async startSweep(principal: Principal): Promise<DriftSweep> {
    if (!principal.admin) throw new ForbiddenError('running a fleet sweep needs an admin token');
    const sweep = await this.deps.drift.startSweep({
      trigger: 'manual',
      requestedBy: principal.name,
      maxConcurrent: this.deps.maxConcurrent,
      staleMs: this.deps.staleMs,
    });
    try {
      await this.deps.startSweepJob(sweep.id);
    } catch (err) {
      // Nothing would run it: do not leave a running sweep blocking the next one.
      await this.deps.drift.finishSweep(sweep.id, { status: 'failed', skipped: [], error: 'the queue could not take the sweep' });
      throw err;
    }
    return sweep;
  }

  async sweep(principal: Principal, id: string): Promise<DriftSweep> {
    const sweep = principal.admin ? await this.deps.drift.getSweep(id) : null;
    if (!sweep) throw new NotFoundError(`no sweep ${id}`);
    return sweep;
  }
}
