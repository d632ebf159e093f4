/**
 * The versioned catalog of Helm add-ons clusterd installs on its clusters. Patching an add-on is a
 * spec change to a newer version from this table, applied like any update; a new chart version
 * enters the table in a clusterd release after it has been tried. Old versions stay in the table
 * while clusters run them (a spec naming an unknown version no longer parses).
 *
 * No add-on gets cloud credentials of its own: no IAM role, no service account key, no workload
 * identity binding. An add-on that needs one (external-dns, cert-manager DNS01, the AWS Load
 * Balancer Controller) is the team's to grant.
 */

/** Which built-in blueprint a catalog entry is offered on. */
export type ProviderKind = 'eks' | 'gke';

/** One Helm chart in the catalog. */
export interface CatalogEntry {
  /** Spec key under `addons` (`metricsServer`). */
  key: AddonKey;
  /** Helm release name and chart name. */
  chart: string;
  /** Chart repository URL; for a chart in an OCI registry, the chart's full `oci://` reference. */
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
  /** Set when the project supports upgrades of one minor version at a time only: a change may not skip one. */
  oneMinorAtATime?: true;
  /** TCP ports on the nodes that the control plane calls (admission webhooks); a private GKE cluster opens only 443 and 10250. */
  webhookPorts?: readonly number[];
  /** Whether the add-on is installed when the spec does not say. */
  enabledByDefault: boolean;
  /** Blueprints that offer it (GKE ships its own metrics-server, which a second copy would fight). */
  offeredOn: readonly ProviderKind[];
  /** Helm values: production defaults (two replicas and a disruption budget where the chart allows). */
  values(kind: ProviderKind): Record<string, unknown>;
}

export type AddonKey = 'metricsServer' | 'certManager' | 'ingressNginx' | 'envoyGateway';

// EKS's in-tree service controller would otherwise make a Classic Load Balancer.
const NLB = { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' };

/** Annotations of a LoadBalancer Service on `kind`. */
export function loadBalancerAnnotations(kind: ProviderKind): Record<string, string> {
  return kind === 'eks' ? { ...NLB } : {};
}

export const ADDON_CATALOG: Record<AddonKey, CatalogEntry> = {
  metricsServer: {
    key: 'metricsServer',
    chart: 'metrics-server',
    repo: 'https://kubernetes-sigs.github.io/metrics-server/',
    namespace: 'kube-system',
    // 3.13.1 ships metrics-server 0.8.1 (Kubernetes 1.31+); charts of 0.9.x will need 1.34+.
    versions: ['3.12.2', '3.13.0', '3.13.1'],
    checked: { source: 'https://kubernetes-sigs.github.io/metrics-server/index.yaml (3.13.1 created 2026-06-11)', on: '2026-11-30' },
    enabledByDefault: true,
    offeredOn: ['eks'],
    values: () => ({ replicas: 2, podDisruptionBudget: { enabled: true, minAvailable: 1 } }),
  },
  certManager: {
    key: 'certManager',
    chart: 'cert-manager',
    repo: 'https://charts.jetstack.io',
    namespace: 'cert-manager',
    // The newest patch of each minor version from v1.18 on, so that a cluster can step through them.
    versions: ['v1.17.2', 'v1.18.2', 'v1.19.6', 'v1.20.3', 'v1.21.1'],
    checked: { source: 'https://github.com/cert-manager/cert-manager/releases (v1.21.1 tagged 2026-07-29)', on: '2026-11-30' },
    // "We recommend that you upgrade cert-manager one minor version at a time" (https://cert-manager.io/docs/installation/upgrade/).
    oneMinorAtATime: true,
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
    // 4.12.1 and later carry the fixes for CVE-2025-1974 ("IngressNightmare"). No version is added to a retired add-on.
    versions: ['4.12.1', '4.13.0'],
    checked: { source: 'https://github.com/kubernetes/ingress-nginx (archived; final chart 4.15.1, 2026-03-19)', on: '2026-11-30' },
    retired: {
      since: '2026-03-24',
      reason: 'Kubernetes SIG Network retired ingress-nginx in March 2026: no releases or security fixes since',
      source: 'https://kubernetes.io/blog/2025/11/11/ingress-nginx-retirement/',
      replacedBy: 'envoyGateway',
    },
    webhookPorts: [8443],
    enabledByDefault: false,
    offeredOn: ['eks', 'gke'],
    values: (kind) => ({
      controller: {
        replicaCount: 2,
        minAvailable: 1,
        metrics: { enabled: true },
        // Local keeps client source addresses and avoids a second hop between nodes.
        service: { externalTrafficPolicy: 'Local', annotations: loadBalancerAnnotations(kind) },
      },
    }),
  },
  envoyGateway: {
    key: 'envoyGateway',
    chart: 'gateway-helm',
    repo: 'oci://docker.io/envoyproxy/gateway-helm',
    namespace: 'envoy-gateway-system',
    // v1.9 supports Kubernetes 1.33 to 1.36 and is maintained until 2027-02-14
    // (https://gateway.envoyproxy.io/news/releases/matrix/). The chart's CRDs (Gateway API and Envoy
    // Gateway's) are installed on first install only: Helm never upgrades CRDs, so a later version
    // enters this table together with a step that applies its CRDs first.
    versions: ['v1.9.0'],
    checked: { source: 'https://github.com/envoyproxy/gateway/releases (v1.9.0, 2026-08-14)', on: '2026-11-30' },
    // The topology injector, a mutating webhook on pod binding in its own namespace (failure policy Ignore).
    webhookPorts: [9443],
    enabledByDefault: false,
    offeredOn: ['eks', 'gke'],
    // The controller; the proxies' replicas and budget are in the EnvoyProxy that addons.ts declares.
    values: () => ({ deployment: { replicas: 2 }, podDisruptionBudget: { minAvailable: 1 } }),
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

/** What to pass to `k8s.helm.v3.Release` to find the chart: a repository and a name, or a full OCI reference alone. */
export function chartSource(entry: CatalogEntry): { chart: string; repositoryOpts?: { repo: string } } {
  return entry.repo.startsWith('oci://') ? { chart: entry.repo } : { chart: entry.chart, repositoryOpts: { repo: entry.repo } };
}
