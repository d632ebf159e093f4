/**
 * The fleet by Kubernetes version: how many live clusters run each version of each blueprint and
 * in which support status, the clusters whose standard support ends within a horizon (or has
 * ended), and the clusters that run retired software.
 */
import type { Principal } from '../auth/principal.js';
import type { RetiredPart } from '../blueprints/blueprint.js';
import type { SupportStatus } from '../domain/version-support.js';
import type { BlueprintLookup } from '../ports.js';
import { allClusters, type ClusterStore } from '../store/cluster-store.js';
import { clusterSupport, type ClusterSupport } from './cluster-support.js';

export interface FleetVersionsQuery {
  /** Days ahead in which an end of standard support is reported. */
  horizonDays: number;
  /** Only this team (a team token sees only its own). */
  team?: string;
  /** Most clusters listed under each list; the counts cover all. */
  limit: number;
}

export interface VersionCount {
  blueprint: string;
  /** null when the blueprint has no calendar, or the calendar does not list the version. */
  version: string | null;
  status: SupportStatus | 'unknown';
  clusters: number;
}

export interface ClusterRef {
  cluster: string;
  team: string;
  blueprint: string;
}

export interface FleetVersions {
  at: string;
  horizonDays: number;
  counts: VersionCount[];
  /** Standard support ending within the horizon or ended, soonest first. */
  endingSoon: { total: number; items: Array<ClusterRef & ClusterSupport> };
  retired: { total: number; items: Array<ClusterRef & RetiredPart> };
}

export interface FleetVersionsDeps {
  clusters: Pick<ClusterStore, 'listClusters'>;
  blueprints: BlueprintLookup;
  /** The database's clock, ms. */
  now: () => Promise<number>;
}

/** GET /v1/fleet/versions. */
export async function fleetVersions(deps: FleetVersionsDeps, principal: Principal, query: FleetVersionsQuery): Promise<FleetVersions> {
  const now = await deps.now();
  const team = principal.admin ? query.team : principal.team!;
  // Another team's clusters do not exist for this caller.
  const filter = principal.admin || !query.team || query.team === team ? { team } : null;
  const counts = new Map<string, VersionCount>();
  const ending: Array<ClusterRef & ClusterSupport> = [];
  const retired: Array<ClusterRef & RetiredPart> = [];
  if (filter) {
    for await (const c of allClusters(deps.clusters, filter)) {
      if (c.status === 'destroyed') continue;
      const blueprint = deps.blueprints.get(c.blueprint);
      const support = clusterSupport(blueprint, c, now);
      const ref = { cluster: c.name, team: c.team, blueprint: c.blueprint };
      const key = `${c.blueprint}\n${support?.version ?? ''}`;
      const count = counts.get(key) ?? {
        blueprint: c.blueprint,
        version: support?.version ?? null,
        status: support?.status ?? 'unknown',
        clusters: 0,
      };
      count.clusters += 1;
      counts.set(key, count);
      if (support && support.daysToEndOfStandardSupport < query.horizonDays) ending.push({ ...ref, ...support });
      for (const part of blueprint?.retiredParts?.(c.appliedSpec ?? c.spec) ?? []) retired.push({ ...ref, ...part });
    }
  }
  ending.sort((a, b) => a.daysToEndOfStandardSupport - b.daysToEndOfStandardSupport || a.cluster.localeCompare(b.cluster));
  return {
    at: new Date(now).toISOString(),
    horizonDays: query.horizonDays,
    counts: [...counts.values()].sort(
      (a, b) => a.blueprint.localeCompare(b.blueprint) || (a.version ?? '').localeCompare(b.version ?? '', undefined, { numeric: true }),
    ),
    endingSoon: { total: ending.length, items: ending.slice(0, query.limit) },
    retired: { total: retired.length, items: retired.slice(0, query.limit) },
  };
}
