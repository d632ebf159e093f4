import type { Principal } from '../auth/principal.js';
import type { ClusterRecord } from '../domain/cluster.js';
import type { MaintenancePolicy } from '../domain/maintenance.js';
import { ForbiddenError, NotFoundError } from '../errors.js';
import type { MaintenanceStore } from '../store/maintenance-store.js';
import type { ClusterMaintenance, MaintenanceGate } from './maintenance-gate.js';
import { policyOf, type MaintenancePolicyBody } from './policy-schema.js';

/** Teams' default maintenance policies (set by an admin, read by the team too), and what a cluster's policy says now. */
export class MaintenanceService {
  constructor(private readonly deps: { store: Pick<MaintenanceStore, 'teamMaintenance' | 'setTeamMaintenance'>; gate: MaintenanceGate }) {}

  async teamPolicy(principal: Principal, team: string): Promise<MaintenancePolicy | null> {
    // Another team's settings do not exist for this caller.
    if (!principal.admin && principal.team !== team) throw new NotFoundError(`no team named "${team}" visible to this token`);
    return this.deps.store.teamMaintenance(team);
  }

  async setTeamPolicy(principal: Principal, team: string, body: MaintenancePolicyBody | null): Promise<MaintenancePolicy | null> {
    if (!principal.admin) throw new ForbiddenError("a team's maintenance policy is set by an admin");
    const policy = body && policyOf(body);
    await this.deps.store.setTeamMaintenance(team, policy);
    return policy;
  }

  /** The policy in effect on a cluster and what it says now, by the database's clock. */
  async windowOf(cluster: ClusterRecord): Promise<ClusterMaintenance> {
    const { states } = await this.deps.gate.statesOf([cluster.id]);
    return states.get(cluster.id) ?? { inEffect: null, open: true, closesAt: null };
  }
}
