import assert from 'node:assert/strict';
import { describe } from 'vitest';
import type { CreateClusterBody } from '../../src/lifecycle/requests.js';
import { ENGINE_SUCCEEDED } from './recording-ports.js';
import { admin, createBody, eksSpec, it, member, NOW, refusal, type Principal } from './support.js';

const alpha = member('alpha');
const beta = member('beta');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(ms).toISOString();
/** Lets `n` turns of the event loop pass: a racing request started after them lands at another point of the first one's way. */
const turns = async (n: number) => {
  for (let i = 0; i < n; i++) await new Promise(setImmediate);
};

describe('ClusterService.create', () => {
  it('records the cluster provisioning at generation 1 and hands its one provision to the queue', async ({ world }) => {
    const { cluster, operation } = await world.clusters.create(alpha, createBody('alpha-one', { labels: { env: 'dev' } }));
    assert.deepEqual(
      {
        name: cluster.name,
        team: cluster.team,
        status: cluster.status,
        generation: cluster.generation,
        labels: cluster.labels,
        driftPolicy: cluster.driftPolicy,
        expiresAt: cluster.expiresAt,
      },
      {
        name: 'alpha-one',
        team: 'alpha',
        status: 'provisioning',
        generation: 1,
        labels: { env: 'dev' },
        driftPolicy: 'notify',
        expiresAt: null,
      },
    );
    assert.deepEqual(
      {
        kind: operation.kind,
        status: operation.status,
        clusterId: operation.clusterId,
        generation: operation.generation,
        requestedBy: operation.requestedBy,
      },
      { kind: 'provision', status: 'queued', clusterId: cluster.id, generation: 1, requestedBy: 'alpha-ci (team alpha)' },
    );
    assert.deepEqual(operation.spec, cluster.spec, 'the provision carries the desired spec, defaults filled in');
    assert.equal(cluster.spec.version, '1.33');
    assert.deepEqual(
      world.ports.operations.dispatched.map((o) => o.id),
      [operation.id],
    );
  });

  it('answers 409 to a name already taken, by any team, and records and queues nothing more', async ({ world }) => {
    await world.clusters.create(alpha, createBody('taken'));
    const before = await world.records();
    for (const who of [alpha, beta]) {
      assert.deepEqual(await refusal(world.clusters.create(who, createBody('taken'))), {
        status: 409,
        detail: 'a cluster named "taken" already exists',
        errors: [],
      });
    }
    assert.deepEqual(await world.records(), before);
    assert.equal(world.ports.operations.dispatched.length, 1);
  });

  const refused: Array<[string, Principal, CreateClusterBody, string[]]> = [
    ['an unknown blueprint', alpha, createBody('c-one', { blueprint: 'aks' }), ['blueprint|enum']],
    [
      'a spec the blueprint refuses',
      alpha,
      createBody('c-one', { spec: eksSpec({ region: 'europe-west1', colour: 'red' }) }),
      ['spec.colour|unknown_field', 'spec.region|invalid_format'],
    ],
    ['an admin token naming no team', admin, createBody('c-one'), ['team|required']],
    ['a team token naming another team', alpha, createBody('c-one', { team: 'beta' }), ['team|own_team']],
    ['an expiry in the past', alpha, createBody('c-one', { expiresAt: at(NOW - 1) }), ['expiresAt|future']],
    [
      'an expiry while deletion protection would refuse the destroy',
      alpha,
      createBody('c-one', { ttl: '2h', spec: eksSpec({ deletionProtection: true }) }),
      ['ttl|destroyable'],
    ],
  ];
  for (const [what, who, body, errors] of refused) {
    it(`answers 400 naming the field and rule for ${what}, and records nothing`, async ({ world }) => {
      const answer = await refusal(world.clusters.create(who, body));
      assert.deepEqual({ status: answer.status, errors: answer.errors.sort() }, { status: 400, errors });
      assert.deepEqual(await world.records(), []);
      assert.deepEqual(world.ports.operations.dispatched, []);
    });
  }
});

describe('expiry under team caps', () => {
  const caps = { alpha: 24 * HOUR, '*': 7 * 24 * HOUR };

  it("sets a capped team's cluster to expire at the cap, or at the ttl asked within it", async ({ world }) => {
    const clusters = world.clusterService({ maxTtl: caps });
    assert.equal((await clusters.create(alpha, createBody('capped'))).cluster.expiresAt, at(NOW + 24 * HOUR));
    assert.equal((await clusters.create(alpha, createBody('short', { ttl: '2h' }))).cluster.expiresAt, at(NOW + 2 * HOUR));
  });

  it('refuses a ttl beyond the cap, and removing the expiry of a capped cluster, recording nothing', async ({ world }) => {
    const clusters = world.clusterService({ maxTtl: caps });
    const long = await refusal(clusters.create(alpha, createBody('too-long', { ttl: '2d' })));
    assert.deepEqual([long.status, long.errors], [403, ['ttl|policy.maxTtl']]);
    await clusters.create(beta, createBody('beta-one'));
    const before = await world.records();
    const removed = await refusal(clusters.update(beta, 'beta-one', { expiresAt: null }));
    assert.deepEqual([removed.status, removed.errors], [403, ['expiresAt|policy.maxTtl']]);
    assert.deepEqual(await world.records(), before);
  });
});

describe('ClusterService.update', () => {
  it('merge-patches the spec, replaces the labels, and queues exactly one update carrying the new generation', async ({ world }) => {
    await world.clusters.create(alpha, createBody('merge-one', { spec: eksSpec({ tags: { a: '1' } }), labels: { env: 'dev' } }));
    const { cluster, operation } = await world.clusters.update(alpha, 'merge-one', { spec: { tags: { b: '2' } }, labels: { tier: 'web' } });
    assert.deepEqual([cluster.generation, cluster.spec.tags, cluster.labels], [2, { a: '1', b: '2' }, { tier: 'web' }]);
    assert.deepEqual(
      [operation?.kind, operation?.status, operation?.generation, operation?.spec?.tags],
      ['update', 'queued', 2, { a: '1', b: '2' }],
    );
    assert.deepEqual(
      world.ports.operations.dispatched.map((o) => o.kind),
      ['provision', 'update'],
    );
  });

  it('changes settings alone at once, with no operation', async ({ world }) => {
    await world.clusters.create(alpha, createBody('settings-one'));
    const changed = await world.clusters.update(alpha, 'settings-one', { driftPolicy: 'auto', ttl: '3h' });
    assert.equal(changed.operation, null);
    assert.deepEqual([changed.cluster.driftPolicy, changed.cluster.expiresAt, changed.cluster.generation], ['auto', at(NOW + 3 * HOUR), 1]);
    assert.deepEqual((await world.records())[0]?.operations, ['provision:queued']);
    assert.equal(world.ports.operations.dispatched.length, 1);
  });

  it('keeps every one of racing changes: each merge-patch applies to the spec the one before it recorded', async ({ world }) => {
    await world.clusters.create(alpha, createBody('racing', { spec: eksSpec({ tags: { base: '0' } }) }));
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    const changes = await Promise.all(keys.map((k) => world.clusters.update(alpha, 'racing', { spec: { tags: { [k]: 'set' } } })));
    const last = changes.reduce((a, b) => (a.cluster.generation > b.cluster.generation ? a : b));
    const expected = Object.fromEntries([['base', '0'], ...keys.map((k) => [k, 'set'])]);
    assert.deepEqual([last.cluster.generation, last.cluster.spec.tags], [1 + keys.length, expected]);
    assert.deepEqual(last.operation?.spec?.tags, expected, 'the newest update carries every change');
  });

  it('queues nothing after a destroy it races: the update either comes first or is refused', async ({ world }) => {
    // The update starts a little later each round, so that the destroy lands at every point of its way.
    for (let round = 0; round < 10; round++) {
      const name = `raced-${round}`;
      await world.clusters.create(alpha, createBody(name));
      const [destroy, update] = await Promise.allSettled([
        world.clusters.destroy(alpha, name),
        turns(round).then(() => world.clusters.update(alpha, name, { spec: { tags: { round: String(round) } } })),
      ]);
      assert.equal(destroy.status, 'fulfilled');
      // Newest first.
      const kinds = (await world.records()).find((c) => c.name === name)!.operations;
      if (update.status === 'fulfilled') assert.deepEqual(kinds, ['destroy:queued', 'update:queued', 'provision:queued'], `round ${round}`);
      else {
        assert.equal((await refusal(Promise.reject(update.reason))).status, 409);
        assert.deepEqual(kinds, ['destroy:queued', 'provision:queued'], `round ${round}`);
      }
    }
  });

  it('names the field and rule of a change the blueprint refuses, and changes nothing', async ({ world }) => {
    await world.clusters.create(alpha, createBody('upgrade-one', { spec: eksSpec({ version: '1.31' }) }));
    const before = await world.records();
    const skip = await refusal(world.clusters.update(alpha, 'upgrade-one', { spec: { version: '1.33' } }));
    assert.deepEqual([skip.status, skip.errors], [400, ['spec.version|version_skip']]);
    const replace = await refusal(world.clusters.update(alpha, 'upgrade-one', { spec: { region: 'us-east-1' } }));
    assert.deepEqual([replace.status, replace.errors], [400, ['spec.region|replacement_requires_allow_replace']]);
    assert.deepEqual(await world.records(), before);
    assert.equal(world.ports.operations.dispatched.length, 1);
  });
});

describe('ClusterService.destroy', () => {
  it('queues a destroy, after which every change answers 409 naming it and records nothing', async ({ world }) => {
    await world.clusters.create(alpha, createBody('doomed'));
    const { cluster, operation } = await world.clusters.destroy(alpha, 'doomed');
    assert.deepEqual([cluster.status, operation.kind], ['destroying', 'destroy']);
    const before = await world.records();
    const detail = (what: string) => `cluster "doomed" has a destroy queued (operation ${operation.id}); cannot ${what} it`;
    assert.deepEqual(await refusal(world.clusters.update(alpha, 'doomed', { labels: {} })), {
      status: 409,
      detail: detail('update'),
      errors: [],
    });
    assert.deepEqual(await refusal(world.clusters.destroy(alpha, 'doomed')), { status: 409, detail: detail('destroy'), errors: [] });
    assert.deepEqual(await refusal(world.clusters.remediate(alpha, 'doomed')), { status: 409, detail: detail('remediate'), errors: [] });
    assert.deepEqual(await refusal(world.clusters.inspect(alpha, 'doomed', 'preview')), {
      status: 409,
      detail: detail('preview'),
      errors: [],
    });
    assert.deepEqual(await world.records(), before);
    assert.deepEqual(
      world.ports.operations.dispatched.map((o) => o.kind),
      ['provision', 'destroy'],
    );
  });

  it('refuses while deletion protection is on; once a change turns it off, the operations queue in the order asked', async ({ world }) => {
    await world.clusters.create(alpha, createBody('guarded', { spec: eksSpec({ deletionProtection: true }) }));
    const guarded = await refusal(world.clusters.destroy(alpha, 'guarded'));
    assert.deepEqual([guarded.status, guarded.errors], [400, ['spec.deletionProtection|deletion_protection']]);
    await world.clusters.update(alpha, 'guarded', { spec: { deletionProtection: false } });
    await world.clusters.inspect(alpha, 'guarded', 'preview');
    await world.clusters.destroy(alpha, 'guarded');
    const queued = world.ports.operations.dispatched;
    assert.deepEqual(
      queued.map((o) => o.kind),
      ['provision', 'update', 'preview', 'destroy'],
    );
    assert.deepEqual(
      queued.map((o) => o.seq),
      [...queued.map((o) => o.seq)].sort((a, b) => a - b),
    );
    assert.deepEqual(
      (await world.store.pendingOperations(queued[0]!.clusterId)).map((o) => o.id),
      queued.map((o) => o.id),
    );
  });

  it('never takes both a destroy and a change that turns deletion protection on, racing: the later is refused', async ({ world }) => {
    for (let round = 0; round < 10; round++) {
      const name = `protect-${round}`;
      await world.clusters.create(alpha, createBody(name));
      const [protect, destroy] = await Promise.allSettled([
        world.clusters.update(alpha, name, { spec: { deletionProtection: true } }),
        turns(round).then(() => world.clusters.destroy(alpha, name)),
      ]);
      const taken = [destroy, protect].filter((r) => r.status === 'fulfilled').length;
      assert.equal(taken, 1, `round ${round}: ${destroy.status} destroy, ${protect.status} protection`);
    }
  });

  it('leaves a destroyed cluster readable but unchangeable, and its name free for a new cluster', async ({ world }) => {
    await world.clusters.create(alpha, createBody('gone'));
    const { operation } = await world.clusters.destroy(alpha, 'gone');
    await world.run(operation.id, ENGINE_SUCCEEDED);
    assert.equal((await world.clusters.get(alpha, 'gone')).status, 'destroyed');
    assert.deepEqual(await refusal(world.clusters.update(alpha, 'gone', { labels: {} })), {
      status: 409,
      detail: 'cluster "gone" is destroyed; cannot update it',
      errors: [],
    });
    const again = await world.clusters.create(alpha, createBody('gone'));
    assert.equal((await world.clusters.get(alpha, 'gone')).id, again.cluster.id);
  });
});

describe('team scoping', () => {
  it("answers another team's cluster as it answers a name that does not exist: 404, recording nothing", async ({ world }) => {
    await world.clusters.create(alpha, createBody('alpha-own'));
    const before = await world.records();
    for (const name of ['alpha-own', 'no-such']) {
      const missing = { status: 404, detail: `no cluster named "${name}"`, errors: [] };
      assert.deepEqual(await refusal(world.clusters.get(beta, name)), missing);
      assert.deepEqual(await refusal(world.clusters.update(beta, name, { labels: {} })), missing);
      assert.deepEqual(await refusal(world.clusters.destroy(beta, name)), missing);
      assert.deepEqual(await refusal(world.clusters.remediate(beta, name)), missing);
      assert.deepEqual(await refusal(world.clusters.inspect(beta, name, 'drift-check')), missing);
      assert.deepEqual(await refusal(world.clusters.kubeconfigReads(beta, name, 10)), missing);
    }
    assert.deepEqual(await world.records(), before);
    assert.equal((await world.clusters.get(admin, 'alpha-own')).team, 'alpha');
  });

  it('lists a team its own clusters only, whatever team it asks for; an admin all, or one team', async ({ world }) => {
    await world.clusters.create(alpha, createBody('alpha-a'));
    await world.clusters.create(beta, createBody('beta-b'));
    const names = async (who: Principal, team?: string) => (await world.clusters.list(who, { limit: 50, team })).items.map((c) => c.name);
    assert.deepEqual(await names(alpha), ['alpha-a']);
    assert.deepEqual(await names(alpha, 'beta'), []);
    assert.deepEqual(await names(admin), ['alpha-a', 'beta-b']);
    assert.deepEqual(await names(admin, 'beta'), ['beta-b']);
  });
});

describe('ClusterService.kubeconfig', () => {
  it('hands the stack output to a caller who may see the cluster and records the read; another team gets 404 and no read', async ({
    world,
  }) => {
    const clusters = world.clusterService({ readOutput: async ({ key }) => (key === 'kubeconfig' ? 'apiVersion: v1' : undefined) });
    await clusters.create(alpha, createBody('kube-one'));
    assert.equal((await refusal(clusters.kubeconfig(beta, 'kube-one'))).status, 404);
    assert.equal((await clusters.kubeconfig(alpha, 'kube-one')).kubeconfig, 'apiVersion: v1');
    assert.deepEqual(
      (await clusters.kubeconfigReads(admin, 'kube-one', 10)).map((r) => r.readBy),
      ['alpha-ci (team alpha)'],
    );
  });
});
