import type { Logger } from 'pino';
import { IN_FLIGHT_STATES, type RolloutRecord } from '../src/domain/rollout.js';
import { startPeriodicLoop } from '../src/periodic-loop.js';
import type { OperationDispatcher } from '../src/ports.js';
import { sameWaiting, type WaitingFor } from '../src/domain/maintenance.js';
import type { MaintenanceGate } from '../src/maintenance/maintenance-gate.js';
import {
  advanceRollout,
  afterOperation,
  membersToStart,
  startableMembers,
  startMember,
  type SpecAccess,
} from '../src/rollouts/rollout-progress.js';
import type { RolloutStore } from '../src/store/rollout-store.js';

export interface RolloutDriverDeps {
  store: RolloutStore;
  specs: SpecAccess;
  dispatcher: OperationDispatcher;
  /** The database's clock (ms): soaks and expiries are compared with it. */
  now: () => Promise<number>;
  /** Says whether a maintenance window lets a member start now. */
  maintenance: MaintenanceGate;
  /** Called after a pass that drove some rollout: carries out the webhooks its events became (the outbox). Must not throw. */
  afterPass?(): Promise<void>;
  /** Names this worker in the rollouts' driver leases. */
  driverId: string;
  /** How long a driver's claim on a rollout lasts without renewal (each pass renews it). Milliseconds. */
  leaseMs: number;
  log: Logger;
}

/**
 * Drives rollouts from their records. Any worker may drive any unfinished rollout; the lease makes
 * one driver at a time, and every write it makes is refused once it lost the lease. A member is
 * started in the same transaction as its operation is queued, so a driver that dies between two
 * moves leaves nothing half done, and the next driver never starts a member twice.
 */
export function createRolloutDriver(deps: RolloutDriverDeps) {
  const { store, specs, driverId, log } = deps;

  async function dispatch(op: Parameters<OperationDispatcher['dispatch']>[0] | null) {
    if (!op) return;
    // The operation is recorded: if Redis cannot take the wake-up now, the reconciler queues it later.
    await deps.dispatcher.dispatch(op).catch((err: unknown) => log.warn({ err, operationId: op.id }, 'could not queue a rollout step now'));
  }

  /**
   * The members that could start but whose maintenance window is closed; notes on each member why it
   * waits (or that it no longer does), so that the rollout shows it.
   */
  async function waitingForWindows(rollout: RolloutRecord): Promise<Set<string>> {
    const startable = startableMembers(rollout);
    // A preview only reads: it waits for no window.
    if (!startable.length || rollout.mode === 'preview') return new Set();
    const { states } = await deps.maintenance.statesOf(startable.map((m) => m.clusterId));
    const waiting = new Set<string>();
    const changed: Array<{ clusterId: string; waitingFor: WaitingFor | null }> = [];
    for (const m of startable) {
      const state = states.get(m.clusterId);
      const waitingFor = state && !state.open ? state.waitingFor : null;
      if (waitingFor) waiting.add(m.clusterId);
      if (!sameWaiting(waitingFor, m.waitingFor)) changed.push({ clusterId: m.clusterId, waitingFor });
    }
    await store.markMembersWaiting(rollout.id, driverId, changed);
    return waiting;
  }

  /** One pass over one rollout: follows ended operations, moves between stages, starts members into free slots. */
  async function drive(id: string): Promise<void> {
    if (!(await store.claimDriver(id, driverId, deps.leaseMs))) return;
    let rollout = await store.getRollout(id);
    if (!rollout || rollout.finishedAt) return;
    const now = await deps.now();
    const inFlight = rollout.members.filter((m) => IN_FLIGHT_STATES.has(m.state) && m.currentOperationId);
    const ops = await store.memberOperations(inFlight.map((m) => m.currentOperationId!));
    for (const m of inFlight) {
      const op = ops.get(m.currentOperationId!);
      if (!op) continue;
      await dispatch(
        await store.moveMember(id, driverId, m.clusterId, (r, member, cluster) => afterOperation(r, member, cluster, op, specs, now)),
      );
    }
    // Members that settle at once (nothing to do, cluster gone) free their slot for the next in the same pass.
    let last = '';
    for (let round = 0; round < 100; round++) {
      rollout = await store.changeRollout(id, (r) => advanceRollout(r, now), driverId);
      const toStart = membersToStart(rollout, await waitingForWindows(rollout));
      // The same members again: none of them could start (the lease was lost meanwhile, the rollout paused).
      const key = toStart.map((m) => m.clusterId).join();
      if (!toStart.length || key === last) return;
      last = key;
      for (const m of toStart) {
        await dispatch(
          await store.moveMember(id, driverId, m.clusterId, (r, member, cluster) => startMember(r, member, cluster, specs, now)),
        );
      }
    }
  }

  /** Drives every unfinished rollout once, oldest first; one that fails is logged and retried at the next pass. */
  async function pass(signal: AbortSignal): Promise<void> {
    const ids = await store.unfinishedRollouts();
    for (const id of ids) {
      if (signal.aborted) return;
      await drive(id).catch((err: unknown) => log.warn({ err, rolloutId: id }, 'rollout pass failed; trying again at the next pass'));
    }
    // Webhooks go out now rather than at the outbox's next pass.
    if (ids.length) await deps.afterPass?.();
  }

  return { drive, pass };
}

/** Runs the driver's passes every `intervalMs`. */
export function startRolloutDriver(deps: RolloutDriverDeps, intervalMs: number) {
  const driver = createRolloutDriver(deps);
  return startPeriodicLoop({ pass: driver.pass, intervalMs, log: deps.log, failureMessage: 'rollout driver pass failed' });
}
