/**
 * The figures of a chaos run, computed from what the audit gathered (records, journal, process
 * samples, what the clients were told). Pure, so that the checks themselves are tested.
 */
import type { JournalLine } from '../../test/blueprints/local-files.js';
import type { AttackLog } from './attacks.js';
import type { LoadResult } from './clients.js';
import { runsAliveTogether, type EngineWatch } from './engine-watch.js';
import { attributeMarks, clusterOfFile, findInterleavings, type AttemptStart, type Interleaving } from './journal.js';

/** An operation as the records hold it at the end. */
export interface OperationRow {
  id: string;
  cluster: string;
  kind: string;
  status: string;
  attempts: number;
  errorCode: string | null;
  /** Milliseconds since the epoch. */
  finishedAt: number | null;
}

export interface ClusterRow {
  name: string;
  status: string;
  needsRecovery: boolean;
}

export interface AuditInput {
  operations: OperationRow[];
  clusters: ClusterRow[];
  attemptStarts: AttemptStart[];
  journal: JournalLine[];
  watch: EngineWatch;
  attacks: AttackLog;
  load: LoadResult;
  /** Operation ids a client got a 202 for that the API answers 404 for. */
  missing: string[];
  /** Lock files left in the state backend, relative to its locks directory. */
  lockFiles: string[];
  /** Destroyed clusters whose files are still there. */
  leftoverFiles: string[];
  /** Job marks with a process still alive once every operation ended. */
  leftoverProcesses: string[];
  /** Workers that died without being killed by the run. */
  unexpectedWorkerExits: number;
  /** WORKER_LANE_LEASE_MS: no lease of a killed worker outlives its kill by more. Milliseconds. */
  leaseMs: number;
}

/** A kill's cost to one cluster: how long until its lane ran again, and until an operation on it finished. */
export interface RecoveryWait {
  cluster: string;
  operationId: string;
  killAt: number;
  /** Null when nothing ran on the cluster after the kill. Milliseconds. */
  toStartMs: number | null;
  /** Null when nothing on the cluster finished after the kill. Milliseconds. */
  toFinishMs: number | null;
}

/** Figures that must be zero for the run to pass. */
export interface MustBeZero {
  /** Attempts of one operation that ran at the same time (journal). */
  runTwice: number;
  /** Runs of different operations on one cluster at the same time (journal). */
  overlappingRuns: number;
  /** Cluster-moments with two runs' processes alive (process samples). */
  runsAliveTogether: number;
  /** Runs of a killed worker still alive after its lease had surely lapsed (kill + lease), when another worker may hold the lane. */
  enginesPastLease: number;
  /** Accepted but not finished by the end, or a 202 whose operation is missing. */
  lost: number;
  /** Lock files of stacks whose clusters have nothing left to run. */
  stacksLeftLocked: number;
  /** Destroyed clusters whose resources (files) are still there. */
  resourcesLeftBehind: number;
  /** Job processes alive on clusters with nothing left to run. */
  processesLeftBehind: number;
  /** Idempotency-Keys whose answers named two different operations. */
  idempotencyDuplicates: number;
  /** Hostile requests answered 2xx. */
  hostileAccepted: number;
}

export interface Figures {
  requestsSent: number;
  answersByStatus: Record<string, number>;
  /** Steps that ended with no answer or a 5xx (without a key they are never retried). */
  unanswered: { withKey: number; withoutKey: number };
  skippedSteps: number;
  /** Distinct operations clients got a 202 for. */
  accepted: number;
  /** Operations in the records no client was told about (a 202 lost on the way, or a retry's original). */
  acceptedUntold: number;
  /** Terminal with at least one attempt. */
  run: number;
  outcomes: Record<string, number>;
  /** `kind status code` -> count, for failed and cancelled operations. */
  endedBadly: Record<string, number>;
  /** Operations that needed more than one attempt (taken over after a kill or a lost lease). */
  takenOver: number;
  maxAttempts: number;
  kills: number;
  missedKills: number;
  unexpectedWorkerExits: number;
  recovery: {
    waits: number;
    unknown: number;
    maxToStartMs: number | null;
    medianToStartMs: number | null;
    maxToFinishMs: number | null;
    worst: RecoveryWait | null;
  };
  /** Longest a run lived on after its worker was killed (process samples). Milliseconds. */
  orphanLifeMaxMs: number | null;
  /** Job children of a killed worker, with no engine alive, still exiting after the lease (reported, not a failure). */
  childrenPastLease: number;
  mustBeZero: MustBeZero;
  /** What the overlap checks saw: a check that saw no run proves nothing (the journal variable did not reach the engine, say). */
  coverage: { attemptsStarted: number; runsInJournal: number; runsSampled: number };
  details: {
    interleavings: Array<Interleaving & { markOperation: string | null; intruderOperation: string | null }>;
    together: Array<{ at: number; cluster: string; marks: string[] }>;
    lost: Array<{ id: string; why: string }>;
    enginesPastLease: Orphan[];
    childrenPastLease: Orphan[];
    lockFiles: string[];
    leftoverFiles: string[];
    leftoverProcesses: string[];
    duplicateKeys: string[];
    hostileAccepted: number[];
  };
}

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'superseded']);
const count = <T>(items: T[], keyOf: (t: T) => string) =>
  items.reduce<Record<string, number>>((acc, t) => ({ ...acc, [keyOf(t)]: (acc[keyOf(t)] ?? 0) + 1 }), {});
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : null);

/** From each kill, per running operation the victim held: the wait until the cluster's lane ran again and until something on it finished. */
export function recoveryWaits(input: Pick<AuditInput, 'attacks' | 'attemptStarts' | 'operations'>): {
  waits: RecoveryWait[];
  unknown: number;
} {
  const waits: RecoveryWait[] = [];
  let unknown = 0;
  for (const kill of input.attacks.kills) {
    if (!kill.held) {
      unknown++;
      continue;
    }
    for (const { cluster, operationId } of kill.held) {
      const nextStart = input.attemptStarts.filter((a) => a.cluster === cluster && a.at > kill.at).map((a) => a.at);
      const nextFinish = input.operations
        .filter((o) => o.cluster === cluster && o.attempts > 0 && o.finishedAt !== null && o.finishedAt > kill.at)
        .map((o) => o.finishedAt!);
      waits.push({
        cluster,
        operationId,
        killAt: kill.at,
        toStartMs: nextStart.length ? Math.min(...nextStart) - kill.at : null,
        toFinishMs: nextFinish.length ? Math.min(...nextFinish) - kill.at : null,
      });
    }
  }
  return { waits, unknown };
}

/** A run of a killed worker seen alive after the kill; `engineAliveForMs` counts only its engine's processes. */
interface Orphan {
  cluster: string | null;
  mark: string;
  killAt: number;
  aliveForMs: number;
  engineAliveForMs: number | null;
}

export function computeFigures(input: AuditInput): Figures {
  const { operations, load } = input;
  const interleavings = findInterleavings(input.journal);
  const owners = attributeMarks(input.journal, input.attemptStarts);
  const attributed = interleavings.map((i) => ({
    ...i,
    markOperation: owners.get(i.mark)?.operationId ?? null,
    intruderOperation: owners.get(i.intruder)?.operationId ?? null,
  }));
  const runTwice = attributed.filter((i) => i.markOperation !== null && i.markOperation === i.intruderOperation).length;

  const journalCluster = new Map<string, string>();
  for (const line of input.journal)
    if (line.mark && !journalCluster.has(line.mark)) journalCluster.set(line.mark, clusterOfFile(line.file) ?? '');
  const together = runsAliveTogether(
    input.watch.snapshots,
    (mark) => input.watch.marks.get(mark)?.cluster ?? journalCluster.get(mark) ?? null,
  );

  const lostAll = [
    ...input.missing.map((id) => ({ id, why: 'a client got 202 for it; the API answers 404' })),
    ...operations
      .filter((o) => !TERMINAL.has(o.status))
      .map((o) => ({ id: o.id, why: `${o.kind} on ${o.cluster} still ${o.status} (attempts ${o.attempts})` })),
  ];
  const lost = lostAll.filter((l, i) => lostAll.findIndex((x) => x.id === l.id) === i);
  const duplicateKeys = [...load.operationsByKey].filter(([, ids]) => ids.size > 1).map(([key]) => key);
  const hostileAccepted = [
    ...new Set(load.exchanges.filter((e) => e.kind === 'hostile' && e.status >= 200 && e.status < 300).map((e) => e.step)),
  ];
  const { waits, unknown } = recoveryWaits(input);
  const toStart = waits.flatMap((w) => (w.toStartMs === null ? [] : [w.toStartMs]));
  const toFinish = waits.flatMap((w) => (w.toFinishMs === null ? [] : [w.toFinishMs]));
  const worst = waits.reduce<RecoveryWait | null>(
    (a, w) => (a === null || (w.toStartMs ?? Infinity) > (a.toStartMs ?? Infinity) ? w : a),
    null,
  );
  const orphans = input.attacks.kills.flatMap((k) =>
    [...input.watch.marks.values()]
      .filter((m) => m.childParents.includes(k.pid) && m.lastSeen > k.at)
      .map((m) => ({
        cluster: m.cluster,
        mark: m.mark,
        killAt: k.at,
        aliveForMs: m.lastSeen - k.at,
        engineAliveForMs: m.engineLastSeen !== null && m.engineLastSeen > k.at ? m.engineLastSeen - k.at : null,
      })),
  );
  const orphanLives = orphans.map((o) => o.aliveForMs);
  // What must be gone before the lease lapses is the engine; a child that never started one (still
  // loading when its worker died) can start nothing once its parent is gone, and only takes its time to exit.
  const enginesPastLease = orphans.filter((o) => o.engineAliveForMs !== null && o.engineAliveForMs > input.leaseMs);
  const childrenPastLease = orphans.filter((o) => o.aliveForMs > input.leaseMs && !enginesPastLease.includes(o));
  // A cluster with work left (the wait gave up) legitimately holds its lock and its engine.
  const busy = new Set(operations.filter((o) => !TERMINAL.has(o.status)).map((o) => o.cluster));
  const clusterOfMark = (mark: string) => input.watch.marks.get(mark)?.cluster ?? journalCluster.get(mark) ?? null;
  const lockFiles = input.lockFiles.filter((f) => !busy.has(f.split('/').at(-2) ?? ''));
  const leftoverProcesses = input.leftoverProcesses.filter((mark) => !busy.has(clusterOfMark(mark) ?? ''));
  const ran = operations.filter((o) => TERMINAL.has(o.status) && o.attempts >= 1);
  const bad = operations.filter((o) => o.status === 'failed' || o.status === 'cancelled');

  return {
    requestsSent: load.exchanges.length,
    answersByStatus: count(load.exchanges, (e) => String(e.status)),
    unanswered: { withKey: load.unanswered.filter((u) => u.key).length, withoutKey: load.unanswered.filter((u) => !u.key).length },
    skippedSteps: load.skipped,
    accepted: load.accepted.size,
    acceptedUntold: operations.filter((o) => !load.accepted.has(o.id)).length,
    run: ran.length,
    outcomes: count(operations, (o) => o.status),
    endedBadly: count(bad, (o) => `${o.kind} ${o.status} ${o.errorCode ?? '-'}`),
    takenOver: operations.filter((o) => o.attempts > 1).length,
    maxAttempts: Math.max(0, ...operations.map((o) => o.attempts)),
    kills: input.attacks.kills.length,
    missedKills: input.attacks.missedKills,
    unexpectedWorkerExits: input.unexpectedWorkerExits,
    recovery: {
      waits: waits.length,
      unknown,
      maxToStartMs: toStart.length ? Math.max(...toStart) : null,
      medianToStartMs: median(toStart),
      maxToFinishMs: toFinish.length ? Math.max(...toFinish) : null,
      worst,
    },
    orphanLifeMaxMs: orphanLives.length ? Math.max(...orphanLives) : null,
    childrenPastLease: childrenPastLease.length,
    coverage: { attemptsStarted: input.attemptStarts.length, runsInJournal: journalCluster.size, runsSampled: input.watch.marks.size },
    mustBeZero: {
      runTwice,
      overlappingRuns: interleavings.length - runTwice,
      runsAliveTogether: together.length,
      enginesPastLease: enginesPastLease.length,
      lost: lost.length,
      stacksLeftLocked: lockFiles.length,
      resourcesLeftBehind: input.leftoverFiles.length,
      processesLeftBehind: leftoverProcesses.length,
      idempotencyDuplicates: duplicateKeys.length,
      hostileAccepted: hostileAccepted.length,
    },
    details: {
      interleavings: attributed,
      together: together.slice(0, 50),
      lost,
      enginesPastLease,
      childrenPastLease,
      lockFiles,
      leftoverFiles: input.leftoverFiles,
      leftoverProcesses,
      duplicateKeys,
      hostileAccepted,
    },
  };
}
