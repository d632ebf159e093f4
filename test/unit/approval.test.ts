import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  approvalGate,
  approvalReasons,
  planDifferences,
  plannedSteps,
  withDecision,
  type ApprovalDecision,
  type OperationApproval,
} from '../../src/domain/approval.js';
import type { ChangeSummary } from '../../src/domain/operation.js';

const prod = { env: 'prod' };
const summary = (...resources: Array<[string, ChangeSummary['resources'][number]['op'], string[]?]>): ChangeSummary => ({
  counts: { create: 0, update: 0, replace: 0, delete: 0, same: 0 },
  resources: resources.map(([name, op, properties = []]) => ({ urn: `urn:pulumi:s::p::t::${name}`, type: 't', name, op, properties })),
});
const answer = (tokenId: string, decision: ApprovalDecision['decision'] = 'approved'): ApprovalDecision => ({
  decision,
  by: tokenId,
  tokenId,
  role: 'approver',
  comment: null,
  at: '2026-11-30T00:00:00.000Z',
});

describe('approvalGate', () => {
  it('binds an operation of a listed kind, or of any kind that changes a stack when changes are listed', () => {
    assert.equal(approvalGate({ kinds: ['destroy'] }, 'destroy', {})?.state, 'planning');
    assert.equal(approvalGate({ changes: ['replace'] }, 'update', {})?.required, 1);
    assert.equal(approvalGate({ kinds: ['destroy'] }, 'update', {}), null);
  });
  it('never binds what only reads, nor a cluster without every listed label', () => {
    assert.equal(approvalGate({ changes: ['delete'] }, 'preview', prod), null);
    assert.equal(approvalGate({ changes: ['delete'] }, 'drift-check', prod), null);
    assert.equal(approvalGate({ kinds: ['destroy'], labels: prod }, 'destroy', { env: 'dev' }), null);
    assert.equal(approvalGate({ kinds: ['destroy'], labels: prod, approvers: 2 }, 'destroy', { ...prod, team: 'x' })?.required, 2);
    assert.equal(approvalGate(undefined, 'destroy', prod), null);
  });
});

describe('approvalReasons', () => {
  const gate = approvalGate({ kinds: ['destroy'], changes: ['replace', 'delete'] }, 'destroy', {})!;
  it('names the kind and every listed change found anywhere in the plan', () => {
    assert.deepEqual(approvalReasons(gate, 'destroy', plannedSteps(summary(['a', 'delete']))), ['kind:destroy', 'change:delete']);
    assert.deepEqual(approvalReasons(gate, 'update', plannedSteps(summary(['a', 'update'], ['b', 'replace']))), ['change:replace']);
  });
  it('is empty for a plan with none of them', () => {
    assert.deepEqual(approvalReasons(gate, 'update', plannedSteps(summary(['a', 'update'], ['b', 'create']))), []);
  });
});

describe('plannedSteps and planDifferences', () => {
  it('keeps only changes, in a stable order, so that the same plan compares equal', () => {
    const a = plannedSteps(summary(['b', 'update', ['size', 'tags']], ['a', 'create'], ['c', 'read']));
    const b = plannedSteps(summary(['a', 'create'], ['b', 'update', ['tags', 'size']]));
    assert.deepEqual(a, b);
    assert.deepEqual(planDifferences(a, b), []);
  });
  it('names each resource whose planned change differs', () => {
    const approved = plannedSteps(summary(['pool-a', 'delete'], ['cluster', 'update', ['version']]));
    const now = plannedSteps(summary(['pool-a', 'create'], ['cluster', 'update', ['version']], ['pool-b', 'update', ['size']]));
    assert.deepEqual(planDifferences(approved, now), [
      'pool-a: approved delete, now create',
      'pool-b: approved no change, now update (size)',
    ]);
  });
});

describe('withDecision', () => {
  const waiting: OperationApproval = { ...approvalGate({ kinds: ['destroy'], approvers: 2 }, 'destroy', {})!, state: 'awaiting' };
  it('approves once enough distinct tokens approved', () => {
    const first = withDecision(waiting, answer('t1'));
    assert.ok('outcome' in first && first.outcome === 'recorded');
    const second = withDecision(first.approval, answer('t2'));
    assert.ok('outcome' in second && second.outcome === 'approved' && second.approval.state === 'approved');
  });
  it('refuses a second answer from one token', () => {
    const first = withDecision(waiting, answer('t1'));
    assert.ok('approval' in first);
    assert.ok('refusal' in withDecision(first.approval, answer('t1')));
  });
  it('rejects on any rejection', () => {
    const first = withDecision(waiting, answer('t1'));
    assert.ok('approval' in first);
    const no = withDecision(first.approval, answer('t2', 'rejected'));
    assert.ok('outcome' in no && no.outcome === 'rejected' && no.approval.state === 'rejected');
  });
});
