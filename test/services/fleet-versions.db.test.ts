import { describe, expect } from 'vitest';
import { builtInBlueprints } from '../../programs/index.js';
import { BlueprintRegistry } from '../../src/blueprints/registry.js';
import { fleetVersions } from '../../src/versions/fleet-versions.js';
import { admin, createBody, eksSpec, it, member, NOW, refusal, type World } from './support.js';

const alpha = member('alpha');
const DAY = 86_400_000;

describe('the fleet by version', () => {
  const blueprints = new BlueprintRegistry();
  for (const b of builtInBlueprints) blueprints.register(b);
  /** The view as the API serves it, with the database's clock at `now`. */
  const view = (world: World, principal = admin, now = NOW, horizonDays = 90) =>
    fleetVersions({ clusters: world.store, blueprints, now: async () => now }, principal, { horizonDays, limit: 100 });

  it('counts clusters by blueprint, version and status, and lists what ends within the horizon, soonest first', async ({ world }) => {
    await world.clusters.create(alpha, createBody('a-131', { spec: eksSpec({ version: '1.31' }) }));
    await world.clusters.create(alpha, createBody('a-133', { spec: eksSpec({ version: '1.33' }) }));
    await world.clusters.create(admin, createBody('b-133', { team: 'beta', spec: eksSpec({ version: '1.33' }) }));
    const fleet = await view(world);
    expect(fleet.counts).toEqual([
      { blueprint: 'eks', version: '1.31', status: 'standard', clusters: 1 },
      { blueprint: 'eks', version: '1.33', status: 'standard', clusters: 2 },
    ]);
    expect(fleet.endingSoon.items).toEqual([]);
    // Five months on (2025-11-15): 1.31's standard support ends within 90 days; a year on it has ended.
    const later = await view(world, admin, NOW + 153 * DAY);
    expect(later.endingSoon.items.map((c) => [c.cluster, c.status, c.daysToEndOfStandardSupport])).toEqual([['a-131', 'standard', 10]]);
    const year = await view(world, admin, NOW + 420 * DAY);
    expect(year.counts.map((c) => `${c.version}:${c.status}`)).toEqual(['1.31:extended', '1.33:extended']);
    expect(year.endingSoon.total).toBe(3);
    // A team sees its own.
    expect((await view(world, alpha)).counts.map((c) => c.clusters)).toEqual([1, 1]);
  });

  it('reports the clusters that still run a retired add-on; a new cluster cannot enable it, an existing one keeps it and may remove it', async ({
    world,
  }) => {
    const nginx = { addons: { ingressNginx: { enabled: true, version: '4.13.0' } } };
    const refused = await refusal(world.clusters.create(alpha, createBody('new-nginx', { spec: eksSpec(nginx) })));
    expect([refused.status, refused.errors]).toEqual([400, ['spec.addons.ingressNginx.enabled|addon_retired']]);
    // A cluster from before the retirement: recorded as an older release would have.
    const { cluster } = await world.store.createCluster(
      { name: 'old-nginx', team: 'alpha', blueprint: 'eks', labels: {}, spec: eksBlueprintSpec({ ...eksSpec(nginx), version: '1.33' }) },
      { kind: 'provision', requestedBy: 'before (team alpha)' },
    );
    expect((await view(world)).retired.items).toEqual([
      {
        cluster: 'old-nginx',
        team: 'alpha',
        blueprint: 'eks',
        field: 'addons.ingressNginx',
        name: 'ingress-nginx',
        since: '2026-03-24',
        reason: expect.stringMatching(/retired/),
        replacedBy: 'addons.envoyGateway',
      },
    ]);
    // Kept through other changes, removed when asked.
    const kept = await world.clusters.update(alpha, cluster.name, { spec: { tags: { owner: 'alpha' } } });
    expect(kept.cluster.spec).toMatchObject({ addons: { ingressNginx: { enabled: true } } });
    const removed = await world.clusters.update(alpha, cluster.name, {
      spec: { addons: { ingressNginx: { enabled: false }, envoyGateway: { enabled: true } } },
    });
    expect(removed.cluster.spec).toMatchObject({ addons: { ingressNginx: { enabled: false }, envoyGateway: { enabled: true } } });
  });

  /** The spec as the eks blueprint parses it (defaults filled), as the store would hold it. */
  function eksBlueprintSpec(spec: Record<string, unknown>): Record<string, unknown> {
    return blueprints.get('eks')!.specSchema.parse(spec) as Record<string, unknown>;
  }
});
