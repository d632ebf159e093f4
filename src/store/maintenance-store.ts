import type { MaintenancePolicy, PolicySource } from '../domain/maintenance.js';

/** A cluster's policy in effect, and whose it is. */
export interface PolicyInEffect {
  policy: MaintenancePolicy;
  source: PolicySource;
}

/** Teams' default maintenance policies, and the policy in effect on clusters (their own, else their team's). */
export interface MaintenanceStore {
  teamMaintenance(team: string): Promise<MaintenancePolicy | null>;
  /**
   * Sets (or, with null, removes) the team's default. Operations of its clusters that wait for a
   * window are looked at again at once, since the window they wait for may have moved.
   */
  setTeamMaintenance(team: string, policy: MaintenancePolicy | null): Promise<void>;
  /** By cluster id; a cluster with neither its own policy nor a team default maps to null. Unknown ids are left out. */
  policiesInEffect(clusterIds: string[]): Promise<Map<string, PolicyInEffect | null>>;
}
