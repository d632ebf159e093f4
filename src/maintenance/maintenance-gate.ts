import type { MaintenanceStore, PolicyInEffect } from '../store/maintenance-store.js';
import { maintenanceState, type MaintenanceState } from './window-schedule.js';

/** A cluster's maintenance policy in effect (null: none, always open) and what it says now. */
export type ClusterMaintenance = { inEffect: PolicyInEffect | null } & MaintenanceState;

/** Whether the service may start work on its own on clusters now, by the database's clock. */
export interface MaintenanceGate {
  /** By cluster id (unknown ids are left out), and the instant (ms) they were judged at. */
  statesOf(clusterIds: string[]): Promise<{ now: number; states: Map<string, ClusterMaintenance> }>;
}

export function createMaintenanceGate(deps: {
  store: Pick<MaintenanceStore, 'policiesInEffect'>;
  /** The database's clock, ms. */
  now: () => Promise<number>;
}): MaintenanceGate {
  return {
    async statesOf(clusterIds) {
      const [policies, now] = await Promise.all([deps.store.policiesInEffect(clusterIds), deps.now()]);
      const states = new Map<string, ClusterMaintenance>();
      for (const [id, inEffect] of policies) states.set(id, { inEffect, ...maintenanceState(inEffect?.policy ?? null, now) });
      return { now, states };
    },
  };
}
