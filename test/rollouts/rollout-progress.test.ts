import { describe, expect, it } from 'vitest';
import type { ClusterRecord } from '../../src/domain/cluster.js';
import type { RolloutMember, RolloutRecord, RolloutStage } from '../../src/domain/rollout.js';
import { advanceRollout, afterOperation, membersToStart, startMember, type SpecAccess } from '../../src/rollouts/rollout-progress.js';
import type { MemberOperation } from '../../src/store/rollout-store.js';
import localFiles from '../blueprints/local-files.js';

const NOW = Date.parse('2026-11-30T12:00:00.000Z');
const local = localFiles({ dataDir: '/tmp/unused' });
const specs: SpecAccess = { blueprint: (name) => (name === 'local-files' ? local : undefined), open: (s) => s, seal: (_b, s) => s };

function stage(over: Partial<RolloutStage> = {}): RolloutStage {
  return {
    name: 'all',
    maxConcurrency: 2,
    soakMs: 0,
    maxFailures: 0,
    approval: false,
    status: 'running',
    startedAt: '2026-11-30T11:00:00.000Z',
    soakUntil: null,
    approvedBy: null,
    approvedAt: null,
    completedAt: null,
    acceptedFailures: 0,
    ...over,
  };
}

function member(name: string, over: Partial<RolloutMember> = {}): RolloutMember {
  return {
    clusterId: `id-${name}`,
    clusterName: name,
    team: 'alpha',
    stage: 0,
    state: 'pending',
    steps: [],
    stepsDone: 0,
    operationIds: [],
    currentOperationId: null,
    error: null,
    reason: null,
    attempts: 0,
    waitingFor: null,
    summary: null,
    startedAt: null,
    finishedAt: null,
    ...over,
  };
}

function rollout(over: Partial<RolloutRecord> = {}): RolloutRecord {
  return {
    id: 'r1',
    name: 'r',
    team: 'alpha',
    requestedBy: 'alice (team alpha)',
    mode: 'change',
    startedByTokenId: 't1',
    selector: { blueprint: 'local-files' },
    change: { upgrade: { version: '1.32' } },
    onInvalid: 'refuse',
    waitForCleanDriftCheck: false,
    status: 'running',
    reason: null,
    currentStage: 0,
    stages: [stage()],
    members: [],
    excluded: [],
    createdAt: '2026-11-30T11:00:00.000Z',
    updatedAt: '2026-11-30T11:00:00.000Z',
    finishedAt: null,
    ...over,
  };
}

const cluster = (over: Partial<ClusterRecord> = {}): ClusterRecord => ({
  id: 'id-a',
  name: 'a',
  team: 'alpha',
  blueprint: 'local-files',
  labels: {},
  spec: { version: '1.30', nodePools: [{ name: 'default', size: 1 }] },
  generation: 1,
  appliedSpec: null,
  appliedGeneration: null,
  status: 'ready',
  outputs: {},
  lastOperationId: null,
  driftPolicy: 'notify',
  expiresAt: null,
  maintenance: null,
  createdAt: '2026-11-30T11:00:00.000Z',
  updatedAt: '2026-11-30T11:00:00.000Z',
  ...over,
});

const op = (over: Partial<MemberOperation>): MemberOperation => ({
  id: 'op1',
  kind: 'update',
  status: 'succeeded',
  error: null,
  supersededBy: null,
  summary: null,
  drift: null,
  ...over,
});

describe('a rollout between its members moves', () => {
  it('starts its first stage, then halts once a stage has more failures than its budget', () => {
    expect(advanceRollout(rollout({ status: 'pending', stages: [stage({ status: 'pending', startedAt: null })] }), NOW)).toEqual({
      status: 'running',
      stages: [stage({ startedAt: '2026-11-30T12:00:00.000Z' })],
    });
    const failing = rollout({ members: [member('a', { state: 'failed' }), member('b', { state: 'running' })] });
    expect(advanceRollout(failing, NOW)).toEqual({
      status: 'halted',
      reason: 'stage "all": 1 member(s) failed, over its budget of 0; running members finish, nothing new starts',
    });
    // A resume accepted that failure: it no longer counts.
    expect(advanceRollout({ ...failing, stages: [stage({ acceptedFailures: 1 })] }, NOW)).toBeNull();
  });

  it('soaks a stage once every member is done, waits for its approval, then starts the next stage', () => {
    const done = [member('a', { state: 'succeeded' }), member('b', { state: 'skipped' })];
    const two = [stage({ soakMs: 60_000, approval: true }), stage({ name: 'next', status: 'pending', startedAt: null })];
    const soaking = advanceRollout(rollout({ members: done, stages: two }), NOW);
    expect(soaking).toEqual({
      status: 'soaking',
      stages: [{ ...two[0], status: 'soaking', soakUntil: '2026-11-30T12:01:00.000Z' }, two[1]],
    });
    const whileSoaking = rollout({ status: 'soaking', members: done, stages: soaking!.stages! });
    expect(advanceRollout(whileSoaking, NOW + 59_000)).toBeNull();
    const waiting = advanceRollout(whileSoaking, NOW + 60_000);
    expect(waiting).toMatchObject({ status: 'awaiting-approval' });
    const awaiting = rollout({ status: 'awaiting-approval', members: done, stages: waiting!.stages! });
    expect(advanceRollout(awaiting, NOW + 120_000)).toBeNull();
    const approved = awaiting.stages.map((s, i) => (i === 0 ? { ...s, approvedAt: '2026-11-30T12:02:00.000Z', approvedBy: 'bob' } : s));
    expect(advanceRollout({ ...awaiting, stages: approved }, NOW + 120_000)).toMatchObject({
      status: 'running',
      currentStage: 1,
      stages: [
        { status: 'completed', completedAt: '2026-11-30T12:02:00.000Z' },
        { status: 'running', startedAt: '2026-11-30T12:02:00.000Z' },
      ],
    });
  });

  it('passes a stage without members at once, succeeds after the last, and finishes a cancelled one once nothing runs', () => {
    const empty = rollout({
      members: [member('a', { stage: 1 })],
      stages: [stage({ approval: true, soakMs: 60_000 }), stage({ name: 'b' })],
    });
    expect(advanceRollout(empty, NOW)).toMatchObject({ status: 'running', currentStage: 1 });
    const last = rollout({ members: [member('a', { state: 'succeeded' })] });
    expect(advanceRollout(last, NOW)).toMatchObject({ status: 'succeeded', currentStage: 1, finished: true });
    expect(advanceRollout(rollout({ status: 'cancelled', members: [member('a', { state: 'running' })] }), NOW)).toBeNull();
    expect(advanceRollout(rollout({ status: 'cancelled', members: [member('a', { state: 'cancelled' })] }), NOW)).toEqual({
      finished: true,
    });
  });

  it('starts pending members into the free slots of each stage reached, a percentage rounded up', () => {
    const r = rollout({
      stages: [stage({ maxConcurrency: '50%' }), stage({ name: 'later', status: 'pending' })],
      members: [member('a', { state: 'running' }), member('b'), member('c'), member('d'), member('e'), member('f', { stage: 1 })],
    });
    // 5 members at 50%: 3 slots, 1 taken.
    expect(membersToStart(r).map((m) => m.clusterName)).toEqual(['b', 'c']);
    expect(membersToStart({ ...r, status: 'paused' })).toEqual([]);
  });
});

describe('a member', () => {
  it('is skipped when its cluster is gone or expired, and settles at once when it carries the change', () => {
    const r = rollout();
    const m = member('a');
    expect(startMember(r, m, cluster({ status: 'destroying' }), specs, NOW)).toMatchObject({
      to: 'settled',
      state: 'skipped',
      reason: 'the cluster is being destroyed',
    });
    expect(startMember(r, m, cluster({ expiresAt: '2026-11-30T11:59:59.000Z' }), specs, NOW)).toMatchObject({
      state: 'skipped',
      reason: 'the cluster expired',
    });
    expect(startMember(r, m, cluster({ spec: { version: '1.32', nodePools: [{ name: 'default', size: 1 }] } }), specs, NOW)).toEqual({
      to: 'settled',
      state: 'succeeded',
      completedStep: false,
      reason: 'the cluster already carries the change',
    });
    expect(startMember(r, m, cluster(), specs, NOW)).toEqual({
      to: 'step',
      spec: { version: '1.31', nodePools: [{ name: 'default', size: 1 }] },
      nodeCapacity: 1,
      completedStep: false,
    });
    expect(startMember({ ...r, status: 'paused' }, m, cluster(), specs, NOW)).toBeNull();
  });

  it('goes on from where its cluster is after each step, and fails with the operation error or the drift found', () => {
    const r = rollout({ waitForCleanDriftCheck: true });
    const running = member('a', { state: 'running', currentOperationId: 'op1' });
    const at131 = cluster({ spec: { version: '1.31', nodePools: [{ name: 'default', size: 1 }] } });
    expect(afterOperation(r, running, at131, op({}), specs, NOW)).toMatchObject({
      to: 'step',
      spec: { version: '1.32' },
      completedStep: true,
    });
    const at132 = cluster({ spec: { version: '1.32', nodePools: [{ name: 'default', size: 1 }] } });
    expect(afterOperation(r, running, at132, op({}), specs, NOW)).toEqual({ to: 'check', completedStep: true });
    const verifying = { ...running, state: 'verifying' as const };
    expect(afterOperation(r, verifying, at132, op({ kind: 'drift-check', drift: 'drifted' }), specs, NOW)).toMatchObject({
      state: 'failed',
      error: { code: 'drift-after-change' },
    });
    expect(afterOperation(r, verifying, at132, op({ kind: 'drift-check', drift: 'clean' }), specs, NOW)).toMatchObject({
      state: 'succeeded',
    });
    expect(
      afterOperation(r, running, at131, op({ status: 'failed', error: { code: 'resource-error', title: 'boom' } }), specs, NOW),
    ).toMatchObject({
      state: 'failed',
      error: { code: 'resource-error', title: 'boom' },
    });
    expect(afterOperation(r, running, at131, op({ status: 'superseded', supersededBy: 'op2' }), specs, NOW)).toEqual({
      to: 'follow',
      operationId: 'op2',
    });
    expect(afterOperation({ ...r, status: 'cancelled' }, running, at131, op({ status: 'cancelled' }), specs, NOW)).toMatchObject({
      state: 'cancelled',
    });
    // Not the operation it waits for: nothing to do.
    expect(afterOperation(r, running, at131, op({ id: 'other' }), specs, NOW)).toBeNull();
  });

  it("waits while its step waits for an approval its team's policy asks for, and fails as the step does once it is rejected or expires", () => {
    const r = rollout();
    const running = member('a', { state: 'running', currentOperationId: 'op1' });
    const at131 = cluster({ spec: { version: '1.31', nodePools: [{ name: 'default', size: 1 }] } });
    expect(afterOperation(r, running, at131, op({ status: 'awaiting-approval' }), specs, NOW)).toBeNull();
    for (const code of ['approval-rejected', 'approval-expired'])
      expect(afterOperation(r, running, at131, op({ status: 'failed', error: { code, title: code } }), specs, NOW)).toMatchObject({
        to: 'settled',
        state: 'failed',
        error: { code },
      });
  });
});
