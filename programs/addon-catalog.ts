/**
 * The versioned catalog of Helm add-ons clusterd installs on its clusters. Patching an add-on is a
 * spec change to a newer version from this table, applied like any update; a new chart version
 * enters the table in a clusterd release after it has been tried.
 *
 * No add-on gets cloud credentials of its own: no IAM role, no service account key, no workload
 * identity binding. An add-on that needs one (external-dns, cert-manager DNS01) is the team's to grant.
 */

/** Which built-in blueprint a catalog entry is offered on. */
export type ProviderKind = 'eks' | 'gke';

/** One Helm chart in the catalog. */
export interface CatalogEntry {
  /** Spec key under `addons` (`metricsServer`). */
  key: AddonKey;
  /** Helm release name and chart name. */
  chart: string;
  /** Chart repository URL. */
  repo: string;
  /** Namespace the release lives in (created when missing). */
  namespace: string;
  /** Chart versions clusterd accepts, oldest first; the last is the default. */
  versions: readonly [string, ...string[]];
  /** Where the newest version was read (the chart repository's index, the project's releases) and when. */
  checked: { source: string; on: string };
  /**
   * Set when the project behind the chart is retired: no new cluster may enable it, an existing one
   * keeps it (and may remove it), and the fleet view reports it.
   */
  retired?: { since: string; reason: string; source: string; replacedBy?: AddonKey };
  /** Whether the add-on is installed when the spec does not say. */
  enabledByDefault: boolean;
  /** Blueprints that offer it (GKE ships its own metrics-server, which a second copy would fight). */
  offeredOn: readonly ProviderKind[];
  /** Helm values: production defaults (two replicas and a disruption budget where the chart allows). */
  values(kind: ProviderKind): Record<string, unknown>;
}

export type AddonKey = 'metricsServer' | 'certManager' | 'ingressNginx';

export const ADDON_CATALOG: Record<AddonKey, CatalogEntry> = {
  metricsServer: {
    key: 'metricsServer',
    chart: 'metrics-server',
    repo: 'https://kubernetes-sigs.github.io/metrics-server/',
    namespace: 'kube-system',
    versions: ['3.12.2', '3.13.0'],
    enabledByDefault: true,
    offeredOn: ['eks'],
    values: () => ({ replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } }),
  },
  certManager: {
    key: 'certManager',
    chart: 'cert-manager',
    repo: 'https://charts.jetstack.io',
    namespace: 'cert-manager',
    versions: ['v1.17.2', 'v1.18.2'],
    enabledByDefault: true,
    offeredOn: ['eks', 'gke'],
    // CRDs through the chart (kept on uninstall by the chart's default), so a version bump upgrades them too.
    values: () => ({
      crds: { enabled: true },
      replicaCount: 2,
      podDisruptionBudget: { enabled: true, minAvailable: 1 },
      webhook: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
      cainjector: { replicaCount: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } },
    }),
  },
  ingressNginx: {
    key: 'ingressNginx',
    chart: 'ingress-nginx',
    repo: 'https://kubernetes.github.io/ingress-nginx',
    namespace: 'ingress-nginx',
    // 4.12.1 and later carry the fixes for CVE-2025-1974 ("IngressNightmare").
    versions: ['4.12.1', '4.13.0'],
    enabledByDefault: false,
    offeredOn: ['eks', 'gke'],
    values: (kind) => ({
      controller: {
        replicaCount: 2,
        minAvailable: 1,
        metrics: { enabled: true },
        service: {
          // Keeps client source addresses and avoids a second hop between nodes.
          externalTrafficPolicy: 'Local',
          // EKS's in-tree controller would otherwise make a Classic Load Balancer.
          annotations: kind === 'eks' ? { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' } : {},
        },
      },
    }),
  },
};

/** Catalog entries a blueprint offers, in a stable order. */
export function catalogFor(kind: ProviderKind): CatalogEntry[] {
  return Object.values(ADDON_CATALOG).filter((e) => e.offeredOn.includes(kind));
}

/** Position of `version` in the entry's version list (higher is newer); -1 when unknown. */
export function catalogRank(entry: CatalogEntry, version: string): number {
  return entry.versions.indexOf(version);
}
