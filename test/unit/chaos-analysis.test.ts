import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { JournalLine } from '../blueprints/local-files.js';
import { runsAliveTogether } from '../../bench/chaos/engine-watch.js';
import { recoveryWaits } from '../../bench/chaos/figures.js';
import { attributeMarks, clusterOfFile, findInterleavings, parseJournal } from '../../bench/chaos/journal.js';
import { parseChaosOptions } from '../../bench/chaos/options.js';
import { planAttacks, planSteps } from '../../bench/chaos/plan.js';
import { seededRandom } from '../../bench/chaos/random.js';

const file = (cluster: string, name = 'cluster.json') => `/tmp/d/local-clusters/${cluster}/${name}`;
const line = (
  at: number,
  mark: string,
  cluster: string,
  call: JournalLine['call'] = 'update',
  phase: JournalLine['phase'] = 'end',
): JournalLine => ({ at, mark, pid: 1, call, phase, file: file(cluster) });

describe('chaos run: the call journal', () => {
  it('finds no overlap when each cluster sees its runs one block after another', () => {
    const lines = [
      line(1, 'a', 'c1'),
      line(2, 'a', 'c1'),
      line(3, 'x', 'c2'),
      line(4, 'b', 'c1'),
      line(5, 'x', 'c2'),
      line(6, 'b', 'c1'),
      line(7, 'c', 'c1'),
    ];
    assert.deepEqual(findInterleavings(lines), []);
  });

  it('reports a run that called the provider again after another run on its cluster had begun, once per pair', () => {
    const lines = [
      line(1, 'a', 'c1', 'update', 'begin'),
      line(2, 'b', 'c1', 'read', 'begin'),
      line(3, 'b', 'c1', 'read', 'end'),
      line(4, 'a', 'c1', 'update', 'end'),
      line(5, 'a', 'c1', 'create', 'end'),
    ];
    assert.deepEqual(findInterleavings(lines), [
      { cluster: 'c1', mark: 'a', intruder: 'b', intruderAt: 2, returnAt: 4, returnCall: 'update end cluster.json' },
    ]);
  });

  it('does not mix clusters, and ignores lines without a job mark', () => {
    const lines = [line(1, 'a', 'c1'), line(2, 'b', 'c2'), line(3, 'a', 'c1'), { ...line(4, 'z', 'c1'), mark: null }, line(5, 'a', 'c1')];
    assert.deepEqual(findInterleavings(lines), []);
  });

  it('skips a torn last line and names the cluster of pool files', () => {
    const text = `${JSON.stringify(line(1, 'a', 'c1'))}\n${JSON.stringify(line(2, 'a', 'c1'))}\n{"at":3,"ma`;
    assert.equal(parseJournal(text).length, 2);
    assert.equal(clusterOfFile(file('chaos-007', 'pools/default.json')), 'chaos-007');
    assert.equal(clusterOfFile('/elsewhere/x.json'), null);
  });

  it('attributes each run to the latest attempt started on its cluster before its first call', () => {
    const attempts = [
      { cluster: 'c1', operationId: 'op1', attempt: 1, at: 100 },
      { cluster: 'c1', operationId: 'op1', attempt: 2, at: 300 },
      { cluster: 'c2', operationId: 'op9', attempt: 1, at: 150 },
    ];
    const owners = attributeMarks([line(120, 'a', 'c1'), line(350, 'b', 'c1'), line(400, 'a', 'c1'), line(50, 'early', 'c2')], attempts);
    assert.equal(owners.get('a')?.attempt, 1);
    assert.deepEqual(owners.get('b'), attempts[1]);
    assert.equal(owners.has('early'), false, 'a run before any recorded start belongs to no attempt');
  });
});

describe('chaos run: process samples and recovery', () => {
  it('finds moments when two runs were alive on one cluster', () => {
    const clusterOf = (mark: string) => ({ a: 'c1', b: 'c1', c: 'c2' })[mark] ?? null;
    const found = runsAliveTogether(
      [
        { at: 1, marks: ['a', 'c'] },
        { at: 2, marks: ['a', 'b', 'c', 'unknown'] },
        { at: 3, marks: ['b'] },
      ],
      clusterOf,
    );
    assert.deepEqual(found, [{ at: 2, cluster: 'c1', marks: ['a', 'b'] }]);
  });

  it('times each kill to the next start and the next finish on the clusters the victim was running', () => {
    const { waits, unknown } = recoveryWaits({
      attacks: {
        kills: [
          { at: 1000, slot: 0, pid: 7, held: [{ cluster: 'c1', operationId: 'op1' }] },
          { at: 5000, slot: 1, pid: 8, held: null },
        ],
        missedKills: 0,
        redis: null,
        postgres: null,
      },
      attemptStarts: [
        { cluster: 'c1', operationId: 'op1', attempt: 1, at: 500 },
        { cluster: 'c1', operationId: 'op1', attempt: 2, at: 7000 },
        { cluster: 'c2', operationId: 'op2', attempt: 1, at: 2000 },
      ],
      operations: [
        { id: 'op1', cluster: 'c1', kind: 'update', status: 'succeeded', attempts: 2, errorCode: null, finishedAt: 9000 },
        { id: 'op3', cluster: 'c1', kind: 'preview', status: 'cancelled', attempts: 0, errorCode: null, finishedAt: 1500 },
      ],
    });
    assert.deepEqual(waits, [{ cluster: 'c1', operationId: 'op1', killAt: 1000, toStartMs: 6000, toFinishMs: 8000 }]);
    assert.equal(unknown, 1, 'a kill while the records were down cannot be timed');
  });
});

describe('chaos run: the seeded plan', () => {
  const settings = { operations: 60, clusters: 5, durationMs: 100_000, killMinMs: 4000, killMaxMs: 9000 };

  it('is the same for the same seed and differs for another', () => {
    const a = planSteps(settings, seededRandom(7).fork('steps'));
    assert.deepEqual(planSteps(settings, seededRandom(7).fork('steps')), a);
    assert.notDeepEqual(planSteps(settings, seededRandom(8).fork('steps')), a);
    assert.deepEqual(planAttacks(settings, seededRandom(7).fork('attacks')), planAttacks(settings, seededRandom(7).fork('attacks')));
  });

  it('provisions every cluster first and destroys it last, with keys on both', () => {
    const steps = planSteps(settings, seededRandom(1));
    assert.equal(steps.length, 60);
    assert.deepEqual(
      steps.map((s) => s.index),
      steps.map((_, i) => i),
    );
    for (let c = 0; c < 5; c++) {
      const mine = steps.filter((s) => s.cluster === `chaos-00${c}`);
      assert.equal(mine[0]?.kind, 'provision');
      assert.equal(mine.at(-1)?.kind, 'destroy');
      assert.equal(mine.filter((s) => s.kind === 'provision' || s.kind === 'destroy').length, 2);
    }
    assert.ok(steps.filter((s) => s.kind === 'provision' || s.kind === 'destroy').every((s) => s.idempotency !== 'none'));
    assert.ok(steps.every((s, i) => i === 0 || steps[i - 1]!.atMs <= s.atMs));
  });

  it('kills workers at intervals within bounds and restarts Redis and PostgreSQL once each, all within the load', () => {
    const attacks = planAttacks(settings, seededRandom(3));
    const kills = attacks.filter((a) => a.type === 'kill-worker');
    assert.equal(attacks.filter((a) => a.type === 'restart-redis').length, 1);
    assert.equal(attacks.filter((a) => a.type === 'restart-postgres').length, 1);
    assert.ok(kills.length >= 10);
    kills.slice(1).forEach((k, i) => assert.ok(k.atMs - kills[i]!.atMs >= 4000 && k.atMs - kills[i]!.atMs <= 9001));
    assert.ok(attacks.every((a) => a.atMs >= 0 && a.atMs < settings.durationMs));
  });
});

describe('chaos run: settings', () => {
  it('takes defaults, then variables, then flags', () => {
    const o = parseChaosOptions(['--clusters=4', '--seed', '9'], { CHAOS_CLUSTERS: '6', CHAOS_OPERATIONS: '30' }, () => 1);
    assert.deepEqual(
      { clusters: o.clusters, operations: o.operations, seed: o.seed, leaseMs: o.leaseMs },
      { clusters: 4, operations: 30, seed: 9, leaseMs: 5000 },
    );
    assert.equal(parseChaosOptions([], {}, () => 123).seed, 123);
  });

  it('reports every invalid setting at once, naming the flag, the variable and the rule', () => {
    assert.throws(
      () => parseChaosOptions(['--clusters=0', '--kill-min=9', '--kill-max=3', '--nope=1'], { CHAOS_REDIS_SIGNAL: 'SIGHUP' }, () => 1),
      (err: Error) => {
        assert.match(err.message, /--nope: is not a chaos flag/);
        assert.match(err.message, /--clusters \(CHAOS_CLUSTERS\): must be an integer from 1 to 500/);
        assert.match(err.message, /--redis-signal \(CHAOS_REDIS_SIGNAL\): must be SIGTERM or SIGKILL/);
        assert.match(err.message, /--kill-max: must be at least --kill-min/);
        return true;
      },
    );
    assert.throws(() => parseChaosOptions(['--operations=10', '--clusters=6'], {}, () => 1), /must be at least 2 x --clusters \(12\)/);
  });
});
