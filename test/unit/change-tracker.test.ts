import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import type { EngineEvent } from '@pulumi/pulumi/automation/index.js';
import { ChangeTracker } from '../../src/engine/change-tracker.js';

const SIG = '4dabf18193072939515e22adb298388d';
const urn = (type: string, name: string) => `urn:pulumi:s::clusterd::${type}::${name}`;
const refreshed = (type: string, name: string, before: Record<string, unknown>, after: Record<string, unknown>) =>
  ({
    resourcePreEvent: {
      metadata: { op: 'refresh', urn: urn(type, name), type, provider: '', old: { outputs: before }, new: { outputs: after } },
    },
  }) as unknown as EngineEvent;

describe('ChangeTracker in a drift check', () => {
  it('drops the known noise of a resource type; a resource with only noise is not drift', () => {
    const t = new ChangeTracker('drift-check', {
      noise: [{ type: 'aws:eks/cluster:Cluster', properties: ['platformVersion'] }],
      redact: [],
    });
    t.phase('cloud');
    t.observe(
      refreshed(
        'aws:eks/cluster:Cluster',
        'c',
        { platformVersion: 'eks.1', version: '1.32' },
        { platformVersion: 'eks.2', version: '1.32' },
      ),
    );
    t.observe(refreshed('aws:eks/nodeGroup:NodeGroup', 'ng', { platformVersion: 'x', size: 2 }, { platformVersion: 'y', size: 3 }));
    const summary = t.summary();
    assert.deepEqual(summary.counts, { create: 0, update: 1, replace: 0, delete: 0, same: 1 });
    assert.deepEqual(
      summary.resources.map((r) => [r.name, r.drift, r.properties]),
      [['ng', 'cloud', ['platformVersion', 'size']]],
    );
  });

  it('masks values Pulumi marks secret and values containing a known secret', () => {
    const t = new ChangeTracker('drift-check', { noise: [], redact: ['hunter2-secret'] });
    t.phase('spec');
    const event = {
      resourcePreEvent: {
        metadata: {
          op: 'update',
          urn: urn('x:y:Z', 'r'),
          type: 'x:y:Z',
          provider: '',
          old: { inputs: { token: { [SIG]: '1b47061264138c4ac30d75fd1eb44270', value: 'old' }, tags: { a: 'hunter2-secret' } } },
          new: { inputs: { token: { [SIG]: '1b47061264138c4ac30d75fd1eb44270', value: 'new' }, tags: {} } },
        },
      },
    } as unknown as EngineEvent;
    t.observe(event);
    assert.deepEqual(t.summary().resources[0]?.diffs, [
      { property: 'tags', state: { a: '[secret]' }, actual: {} },
      { property: 'token', state: '[secret]', actual: '[secret]' },
    ]);
  });

  it('records no drift fields outside a drift check', () => {
    const t = new ChangeTracker('refresh');
    t.observe(refreshed('x:y:Z', 'r', { size: 1 }, { size: 2 }));
    assert.deepEqual(
      t.summary().resources.map((r) => Object.keys(r).sort()),
      [['name', 'op', 'properties', 'type', 'urn']],
    );
  });
});
