import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { OperationKind, OperationRecord, OperationStatus } from '../../src/domain/operation.js';
import { nextBatch } from '../../queue/lane-processor.js';
import { mustYield } from '../../queue/run-operation.js';

const op = (id: string, kind: OperationKind, status: OperationStatus = 'queued', sweepId: string | null = null) =>
  ({ id, kind, status, sweepId }) as OperationRecord;
const ids = (b: ReturnType<typeof nextBatch>) => b && { run: b.run.id, superseded: b.superseded.map((o) => o.id) };

describe('nextBatch', () => {
  it('answers null when nothing is pending', () => {
    assert.equal(nextBatch([]), null);
  });
  it('coalesces consecutive queued updates into the newest one', () => {
    assert.deepEqual(ids(nextBatch([op('u1', 'update'), op('u2', 'update'), op('u3', 'update')])), { run: 'u3', superseded: ['u1', 'u2'] });
  });
  it('never lets updates swallow a destroy queued after them', () => {
    assert.deepEqual(ids(nextBatch([op('u1', 'update'), op('u2', 'update'), op('d', 'destroy'), op('u3', 'update')])), {
      run: 'u2',
      superseded: ['u1'],
    });
  });
  it('runs a destroy at the head on its own', () => {
    assert.deepEqual(ids(nextBatch([op('d', 'destroy'), op('u', 'update')])), { run: 'd', superseded: [] });
  });
  it('does not coalesce across a preview', () => {
    assert.deepEqual(ids(nextBatch([op('u1', 'update'), op('p', 'preview'), op('u2', 'update')])), { run: 'u1', superseded: [] });
  });
  it('resumes a running update without superseding it', () => {
    assert.deepEqual(ids(nextBatch([op('u1', 'update', 'running'), op('u2', 'update')])), { run: 'u1', superseded: [] });
  });
  it("puts a sweep's queued drift check after what people asked for, and still coalesces their updates", () => {
    const check = op('c', 'drift-check', 'queued', 'sweep-1');
    assert.deepEqual(ids(nextBatch([check, op('u1', 'update'), op('u2', 'update')])), { run: 'u2', superseded: ['u1'] });
    assert.deepEqual(ids(nextBatch([check])), { run: 'c', superseded: [] });
  });
  it("keeps a sweep's running check at the head (it yields by itself)", () => {
    assert.deepEqual(ids(nextBatch([op('c', 'drift-check', 'running', 'sweep-1'), op('p', 'preview')])), { run: 'c', superseded: [] });
  });
  it('holds everything behind an operation awaiting approval, but for a sweep check', () => {
    const check = op('c', 'drift-check', 'queued', 'sweep-1');
    assert.equal(nextBatch([op('d', 'destroy', 'awaiting-approval'), op('p', 'preview')]), null);
    assert.deepEqual(ids(nextBatch([op('d', 'destroy', 'awaiting-approval'), op('p', 'preview'), check])), { run: 'c', superseded: [] });
    assert.equal(nextBatch([op('u1', 'update', 'awaiting-approval'), op('d', 'destroy')]), null);
  });
  it('replaces an update awaiting approval with the newest queued update after it', () => {
    assert.deepEqual(ids(nextBatch([op('u1', 'update', 'awaiting-approval'), op('u2', 'update'), op('u3', 'update')])), {
      run: 'u3',
      superseded: ['u1', 'u2'],
    });
  });
});

describe('mustYield', () => {
  const check = { ...op('c', 'drift-check', 'running', 'sweep-1'), waitingFor: null };
  const pending = (o: OperationRecord, waitingFor: OperationRecord['waitingFor'] = null) => ({ ...o, waitingFor });
  it("makes a sweep's check give way to what a person asked for", () => {
    assert.equal(mustYield(check, [check, pending(op('u', 'update'))]), true);
  });
  it('keeps it running behind what cannot run now: a wait for approval or for a window, or another check', () => {
    const window = { reason: 'maintenance-window', next: null, detail: 'closed' } as unknown as OperationRecord['waitingFor'];
    assert.equal(mustYield(check, [check, pending(op('d', 'destroy', 'awaiting-approval'))]), false);
    assert.equal(mustYield(check, [check, pending(op('u', 'update'), window)]), false);
    assert.equal(mustYield(check, [check, pending(op('c2', 'drift-check', 'queued', 'sweep-1'))]), false);
  });
});
