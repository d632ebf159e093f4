import { randomUUID } from 'node:crypto';
import { SpanKind, type Span } from '@opentelemetry/api';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';
import { approvalReasons, plannedSteps } from '../src/domain/approval.js';
import { specToRun, type ChangeSummary, type OperationError, type OperationRecord } from '../src/domain/operation.js';
import type { ApprovalStep } from '../src/engine/engine.js';
import { SealError, type SpecSealer } from '../src/secrets/spec-sealer.js';
import { ConflictError, LaneLostError } from '../src/errors.js';
import type { ClusterStore } from '../src/store/cluster-store.js';
import type { LaneStore, StartedOperation } from '../src/store/lane-store.js';
import type { MaintenanceGate } from '../src/maintenance/maintenance-gate.js';
import { sameWaiting } from '../src/domain/maintenance.js';
import type { OperationStore } from '../src/store/operation-store.js';
import { contextOf, failSpan, inSpan, operationAttributes } from '../src/tracing/tracing.js';
import { keepLane, type LaneLease } from './lane-lease.js';
import type { RunClusterJobData } from './names.js';
import { outcomeOf, settledStatus } from './outcome.js';
import { runOperation, type RunEngine } from './run-operation.js';

export interface LaneProcessorDeps {
  store: Pick<OperationStore, 'getOperation' | 'pendingOperations'> & Pick<ClusterStore, 'getClusterById'>;
  lanes: LaneStore;
  /** Opens the write-only fields an operation's spec carries sealed. */
  sealer: Pick<SpecSealer, 'open'>;
  runEngine: RunEngine;
  log: Logger;
  /** Identifies this worker process in lane owners and logs. */
  workerId: string;
  /** @see Config.WORKER_LANE_LEASE_MS */
  leaseMs: number;
  /** A running operation whose worker died this many times ends `failed` instead of running again. @defaultValue 3 */
  maxAttempts?: number;
  /** Aborted when the worker drains on SIGTERM. */
  shutdown: AbortSignal;
  /** Told when work is left on a cluster that this worker will not do (drained, or its lane lost). */
  requeue(clusterId: string): Promise<void>;
  /** Says whether a maintenance window lets operations that respect it start now. */
  maintenance: MaintenanceGate;
  /** Asks for the lane to be looked at again once a window opens (`at`, database clock), `inMs` from now. */
  wakeAt(clusterId: string, when: { at: string; inMs: number }): Promise<void>;
  /**
   * Called once an operation's outcome is committed, to carry out its outbox entry (webhook events,
   * drift report) at once; the outbox relay's passes do it anyway if this is lost. Must not throw.
   */
  afterFinish?(operationId: string): Promise<void>;
  /** How long an operation waits for approval before it expires. Milliseconds. */
  approvalTtlMs: number;
  /** Called once an operation's wait for approval is committed, to carry out its outbox entry (webhook event) at once. Must not throw. */
  afterAwait?(operationId: string): Promise<void>;
}

/** The step of its approval an operation's run is: its plan, or the apply of an approved plan; null without one. */
export function approvalStepOf(op: OperationRecord): ApprovalStep | null {
  if (op.approval?.state === 'planning') return { step: 'plan' };
  if (op.approval?.state === 'approved') return { step: 'apply', approvedPlan: op.approval.plan ?? [] };
  return null;
}

/** Nothing left to run now, but operations wait for a window that opens at `at`. */
interface WaitingForWindow {
  at: string;
  inMs: number;
}

type DrainEnd = 'empty' | 'shutdown' | 'lane-lost' | WaitingForWindow;

/** Whether the lane would run it now: neither waiting for a window nor for an approval. */
const runnable = (o: OperationRecord) => o.waitingFor === null && o.status !== 'awaiting-approval';

/** A day: how soon a lane whose window opens in no foreseeable future is looked at again (its policy may change). */
const NO_WINDOW_RECHECK_MS = 86_400_000;

/**
 * The head of a cluster's pending operations, with the queued updates it replaces: consecutive
 * queued updates coalesce into the newest one (which carries the newest desired spec). Any other
 * kind ends the run, so a destroy is never swallowed. Queued drift checks of a sweep go after
 * everything else: they only read, so running them later changes no outcome and delays nobody.
 * An operation awaiting approval holds everything after it, but for those checks, unless queued
 * updates follow it: as an update, it is then replaced by the newest (which asks anew).
 * Operations in `waiting` (for a maintenance window) are passed over; an update that runs
 * replaces the earlier updates that wait, since it applies a desired spec at least as new.
 */
export function nextBatch(
  all: OperationRecord[],
  waiting: ReadonlySet<string> = new Set(),
): { run: OperationRecord; superseded: OperationRecord[] } | null {
  const background = (o: OperationRecord) => Boolean(o.sweepId) && o.status === 'queued';
  const ready = all.filter((o) => !waiting.has(o.id));
  const pending = [...ready.filter((o) => !background(o)), ...ready.filter(background)];
  const head = pending[0];
  if (!head) return null;
  // Behind an operation awaiting approval only a sweep's checks run: they change nothing.
  const blocked = () => {
    const check = pending.find(background);
    return check ? { run: check, superseded: [] } : null;
  };
  if (head.kind !== 'update' || (head.status !== 'queued' && head.status !== 'awaiting-approval'))
    return head.status === 'awaiting-approval' ? blocked() : { run: head, superseded: [] };
  let end = 0;
  while (pending[end + 1]?.kind === 'update' && pending[end + 1]?.status === 'queued') end++;
  if (end === 0 && head.status === 'awaiting-approval') return blocked();
  const run = pending[end]!;
  const waitingUpdates = all.filter((o) => waiting.has(o.id) && o.kind === 'update' && o.seq < run.seq);
  return { run, superseded: [...waitingUpdates, ...pending.slice(0, end)] };
}

/**
 * The BullMQ processor. A job only says "cluster X may have work": the processor takes the
 * cluster's lane (a fenced lease in the record store, renewed for as long as it is held), then runs
 * the cluster's pending operations in acceptance order until none is left. A job that finds the lane
 * taken waits (delayed) until the lease would expire: the holder normally runs its operation first,
 * and if the holder died the job takes over once its lease has lapsed.
 */
export function createLaneProcessor(deps: LaneProcessorDeps) {
  const maxAttempts = deps.maxAttempts ?? 3;
  const { store, lanes, log } = deps;

  /** Runs the cluster's pending operations until none is left, the worker drains, or the lane is at risk. */
  async function drainLane(lease: LaneLease): Promise<DrainEnd> {
    const { hold } = lease;
    for (;;) {
      if (lease.atRisk.aborted) return 'lane-lost';
      if (deps.shutdown.aborted) return 'shutdown';
      const pending = await store.pendingOperations(hold.clusterId);
      const waiting = await waitingForWindow(lease, pending);
      const batch = nextBatch(pending, new Set(waiting?.ids));
      if (!batch) return waiting ?? 'empty';
      const { run, superseded } = batch;
      if (superseded.length) {
        await lanes.supersede(
          hold,
          superseded.map((o) => o.id),
          run.id,
        );
        log.info({ clusterId: hold.clusterId, operationId: run.id, superseded: superseded.map((o) => o.id) }, 'coalesced queued updates');
      }
      if (run.status === 'running' && run.attempts >= maxAttempts) {
        await failDeadRun(lease, run);
        continue;
      }
      if ((await runOne(lease, run)) === 'lane-lost') return 'lane-lost';
    }
  }

  /** The queued operations that respect a maintenance window now closed, noted as waiting; null when none waits. */
  async function waitingForWindow(lease: LaneLease, pending: OperationRecord[]): Promise<(WaitingForWindow & { ids: string[] }) | null> {
    const gated = pending.filter((o) => o.respectMaintenance && o.status === 'queued');
    if (!gated.length) return null;
    const { now, states } = await deps.maintenance.statesOf([lease.hold.clusterId]);
    const state = states.get(lease.hold.clusterId);
    if (!state || state.open) return null;
    const { waitingFor } = state;
    const at = waitingFor.next ?? new Date(now + NO_WINDOW_RECHECK_MS).toISOString();
    // Noted on every look, not only when it changed: a policy change clears when to look again.
    await lanes.markWaiting(
      lease.hold,
      gated.map((o) => ({ id: o.id, waitingFor, until: at })),
      state.inEffect?.policy ?? null,
    );
    const changed = gated.filter((o) => !sameWaiting(o.waitingFor, waitingFor));
    if (changed.length)
      log.info(
        { clusterId: lease.hold.clusterId, operations: changed.map((o) => o.id), next: waitingFor.next },
        'waiting for a maintenance window',
      );
    return { ids: gated.map((o) => o.id), at, inMs: Math.max(0, Date.parse(at) - now) };
  }

  async function failDeadRun(lease: LaneLease, op: OperationRecord): Promise<void> {
    const cluster = await store.getClusterById(op.clusterId);
    const error: OperationError = {
      code: 'worker-died',
      title: `The worker running this operation stopped ${op.attempts} times`,
      detail:
        "Each attempt ended without a result (the worker process was killed or lost its lease). Check the workers' memory limits and logs, then retry the request.",
    };
    const result = { status: 'failed' as const, summary: null, outputs: null, error };
    const outcome = cluster ? outcomeOf(op, cluster, result) : { ...result, cluster: {}, stackClean: false };
    await lanes.finishOperation(lease.hold, op.id, outcome);
    await deps.afterFinish?.(op.id);
  }

  async function runOne(lease: LaneLease, queued: OperationRecord): Promise<'done' | 'lane-lost'> {
    let started;
    try {
      started = await lanes.startOperation(lease.hold, queued.id);
    } catch (err) {
      // Cancelled between being listed and being started: it must not run; look at the next one.
      if (err instanceof ConflictError && !(err instanceof LaneLostError)) return 'done';
      throw err;
    }
    return runStarted(lease, started);
  }

  /** Runs an operation this hold started, in a span that continues the trace its record carries. */
  function runStarted(lease: LaneLease, started: StartedOperation): Promise<'done' | 'lane-lost'> {
    const { operation: op } = started;
    const attributes = {
      ...operationAttributes({ id: op.id, kind: op.kind, clusterName: op.clusterName }),
      'clusterd.operation.attempt': op.attempts,
      'clusterd.operation.recover': started.recover,
    };
    return inSpan(`operation ${op.kind}`, { kind: SpanKind.CONSUMER, parent: contextOf(op.traceParent), attributes }, (span) =>
      runStartedIn(span, lease, started),
    );
  }

  async function runStartedIn(span: Span, lease: LaneLease, { operation: op, recover }: StartedOperation): Promise<'done' | 'lane-lost'> {
    const cluster = await store.getClusterById(op.clusterId);
    if (!cluster) throw new Error(`cluster ${op.clusterId} of operation ${op.id} is missing`);
    span.setAttribute('clusterd.blueprint', cluster.blueprint);
    log.info(
      { operationId: op.id, cluster: cluster.name, kind: op.kind, attempt: op.attempts, recover, epoch: lease.hold.epoch },
      'operation started',
    );
    let spec: Record<string, unknown>;
    try {
      spec = deps.sealer.open(specToRun(op));
    } catch (err) {
      if (!(err instanceof SealError)) throw err;
      // Nothing ran: the stack is as the last run left it.
      const error: OperationError = {
        code: 'spec-unreadable',
        title: "The operation's secret spec fields cannot be read by this worker",
        detail: err.message,
      };
      await lanes.finishOperation(lease.hold, op.id, {
        ...outcomeOf(op, cluster, { status: 'failed', summary: null, outputs: null, error }),
        stackClean: !recover,
      });
      await deps.afterFinish?.(op.id);
      return 'done';
    }
    const approval = approvalStepOf(op);
    if (approval) span.setAttribute('clusterd.approval.step', approval.step);
    const { result, stoppedFor } = await runOperation(
      { store, lanes, runEngine: deps.runEngine, log },
      { cluster, operation: op, spec, lease, recover, shutdown: deps.shutdown, ...(approval ? { approval } : {}) },
    );
    span.setAttribute('clusterd.operation.status', result.status);
    if (stoppedFor) span.setAttribute('clusterd.operation.stopped_for', stoppedFor);
    if (result.status === 'failed') failSpan(span, result.error?.code ?? 'failed');
    if (stoppedFor === 'lease-lost') {
      // The next holder recovers the stack and runs this operation again: write nothing more.
      log.error({ operationId: op.id }, 'lane lease at risk; operation stopped and left to the next lane holder');
      return 'lane-lost';
    }
    if (stoppedFor === 'shutdown' || stoppedFor === 'yield') {
      // Not the caller's doing: the operation runs again (recovering the stack if it needs it) on the next lane holder.
      await lanes.requeueOperation(lease.hold, op.id);
      log.warn({ operationId: op.id, reason: stoppedFor }, 'operation stopped and requeued');
      return 'done';
    }
    if (approval?.step === 'plan' && result.status === 'succeeded') return afterPlan(lease, op, result.summary);
    // A failed plan changed nothing: the cluster keeps what it had, as after a preview.
    const outcome = approval?.step === 'plan' ? { ...outcomeOf(op, cluster, result), cluster: {} } : outcomeOf(op, cluster, result);
    await lanes.finishOperation(lease.hold, op.id, outcome);
    log.info({ operationId: op.id, status: result.status, error: result.error?.code }, 'operation finished');
    await deps.afterFinish?.(op.id);
    return 'done';
  }

  /**
   * After the plan of an operation bound to an approval: it waits for one when the plan has what the
   * rule names (the lane then stops there), and otherwise runs at once, as any other.
   */
  async function afterPlan(lease: LaneLease, op: OperationRecord, summary: ChangeSummary | null): Promise<'done' | 'lane-lost'> {
    const approval = op.approval!;
    const plan = plannedSteps(summary);
    const reasons = approvalReasons(approval, op.kind, plan);
    if (reasons.length === 0) {
      await lanes.noteApproval(lease.hold, op.id, { ...approval, state: 'not-needed', plan });
      log.info({ operationId: op.id }, 'its plan needs no approval; running it');
      // Its plan ran cleanly, recovering the stack first if it needed it: the apply needs no recovery.
      return runStarted(lease, { operation: { ...op, approval: { ...approval, state: 'not-needed', plan } }, recover: false });
    }
    const waiting = await lanes.awaitApproval(
      lease.hold,
      op.id,
      { summary, approval: { ...approval, state: 'awaiting', reasons, plan } },
      deps.approvalTtlMs,
    );
    await lanes.appendEvents(lease.hold, op.id, [
      { type: 'status', data: { status: 'awaiting-approval', reasons, expiresAt: waiting.approval?.expiresAt ?? null } },
    ]);
    log.info({ operationId: op.id, reasons, expiresAt: waiting.approval?.expiresAt }, 'operation awaits approval');
    await deps.afterAwait?.(op.id);
    return 'done';
  }

  /** Sets the status of a cluster whose lane ran dry, when it still promises work in progress. */
  async function settle(lease: LaneLease): Promise<void> {
    if ((await store.pendingOperations(lease.hold.clusterId)).length) return;
    const cluster = await store.getClusterById(lease.hold.clusterId);
    const status = cluster && settledStatus(cluster);
    if (status) await lanes.setClusterStatus(lease.hold, status);
  }

  /** Takes the lane, or null when another holds it. The owner is unique per take, so no two holds ever share it. */
  async function take(clusterId: string, job: Job<RunClusterJobData>): Promise<LaneLease | null> {
    const hold = await lanes.acquire(clusterId, `${deps.workerId}/${job.id}/${randomUUID().slice(0, 8)}`, deps.leaseMs);
    return hold && keepLane(lanes, hold, { leaseMs: deps.leaseMs, log });
  }

  /** Drains the lane, then lets it go; true when the worker should look again for work accepted meanwhile. */
  async function holdAndDrain(lease: LaneLease): Promise<boolean> {
    const { hold } = lease;
    try {
      const ended = await drainLane(lease);
      if (ended === 'lane-lost') {
        // Whoever takes the lane over next runs what is left: a wake-up makes that soon.
        await deps.requeue(hold.clusterId).catch(() => undefined);
        return false;
      }
      if (ended === 'empty') await settle(lease);
      lease.stop();
      await lanes.release(hold);
      if (ended === 'shutdown') {
        await deps.requeue(hold.clusterId);
        return false;
      }
      if (typeof ended === 'object') await deps.wakeAt(hold.clusterId, { at: ended.at, inMs: ended.inMs });
      return true;
    } catch (err) {
      lease.stop();
      if (err instanceof LaneLostError || lease.atRisk.aborted) {
        log.error({ err, clusterId: hold.clusterId }, 'lane lost; stopped without writing more');
        await deps.requeue(hold.clusterId).catch(() => undefined);
        return false;
      }
      await lanes.release(hold).catch(() => undefined);
      throw err;
    } finally {
      lease.stop();
    }
  }

  return async function processLaneJob(job: Job<RunClusterJobData>, token?: string): Promise<void> {
    const { clusterId } = job.data;
    let lease = await take(clusterId, job);
    if (!lease) {
      // The lease's end is the database's time: wait for what is left of it, not for that instant on this clock.
      await job.moveToDelayed(Date.now() + ((await lanes.leaseLeftMs(clusterId)) ?? 0) + 250, token);
      throw new DelayedError();
    }
    // Release, then look again: work accepted while this lane was closing is never stranded. What
    // waits for a window is not looked at again before the wake-up asked for it.
    while (lease && (await holdAndDrain(lease))) {
      lease = (await store.pendingOperations(clusterId)).some(runnable) ? await take(clusterId, job) : null;
    }
  };
}
