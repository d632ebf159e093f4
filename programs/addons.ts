/**
 * `clusterd:addons:Baseline`: what every built-in cluster gets inside Kubernetes, through a
 * `k8s.Provider` bound to that cluster's kubeconfig: the team's namespaces (RBAC for the team's
 * group, a ResourceQuota, a LimitRange, a default-deny NetworkPolicy that lets DNS out) and the
 * Helm releases chosen from the add-on catalog (with Envoy Gateway, its EnvoyProxy and
 * GatewayClass). No add-on gets cloud credentials.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { ADDON_CATALOG, catalogFor, chartSource, type ProviderKind } from './addon-catalog.js';
import { teamNamespaces, type AddonsSpec, type TenancySpec } from './common-spec.js';
import { envoyGatewayClass } from './envoy-gateway.js';

/** Arguments of {@link Baseline}. */
export interface BaselineArgs {
  /** Which blueprint installs it (catalog values differ a little per provider). */
  kind: ProviderKind;
  /** The owning team (names the default namespace). */
  team: string;
  /** Kubernetes group bound to the `admin` ClusterRole in the team's namespaces. */
  teamGroup: pulumi.Input<string>;
  tenancy: TenancySpec;
  addons: AddonsSpec;
  /** The cluster's Kubernetes provider; every object here goes through it. */
  provider: k8s.Provider;
  /** Labels on every Kubernetes object made here. */
  labels: Record<string, string>;
  /** What must exist before workloads can run (the node pools): Helm releases wait for it. */
  dependsOn: pulumi.Input<pulumi.Resource>[];
}

/** The team baseline and catalog add-ons of one cluster. */
export class Baseline extends pulumi.ComponentResource {
  /** Namespaces made for the team. */
  readonly namespaces: string[];
  /** Helm release names installed, `<chart>@<version>`. */
  readonly releases: string[];

  constructor(name: string, args: BaselineArgs, opts?: pulumi.ComponentResourceOptions) {
    super('clusterd:addons:Baseline', name, {}, opts);
    const base = { parent: this, provider: args.provider };
    this.namespaces = teamNamespaces(args.tenancy, args.team);
    for (const ns of this.namespaces) this.tenant(ns, args, base);

    this.releases = [];
    for (const entry of catalogFor(args.kind)) {
      const choice = args.addons[entry.key];
      if (!choice?.enabled) continue;
      const release = new k8s.helm.v3.Release(
        entry.chart,
        {
          name: entry.chart,
          ...chartSource(entry),
          version: choice.version,
          namespace: entry.namespace,
          createNamespace: true,
          values: ADDON_CATALOG[entry.key].values(args.kind),
          // A failed upgrade rolls back instead of leaving a half-applied release.
          atomic: true,
          cleanupOnFail: true,
          timeout: 900,
        },
        { ...base, dependsOn: args.dependsOn },
      );
      if (entry.key === 'envoyGateway') envoyGatewayClass(args.kind, release, args.labels, base);
      this.releases.push(`${entry.chart}@${choice.version}`);
    }
    this.registerOutputs({ namespaces: this.namespaces, releases: this.releases });
  }

  /** One team namespace and its guard rails. */
  private tenant(ns: string, args: BaselineArgs, base: pulumi.CustomResourceOptions): void {
    const labels = args.labels;
    const namespace = new k8s.core.v1.Namespace(
      `ns-${ns}`,
      {
        metadata: {
          name: ns,
          // Pod Security admission: refuse privileged pods, warn about what "restricted" would refuse.
          labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted' },
        },
      },
      base,
    );
    const inNs = { ...base, dependsOn: [namespace] };
    const metadata = (objectName: string) => ({ name: objectName, namespace: ns, labels });
    new k8s.rbac.v1.RoleBinding(
      `${ns}-team-admin`,
      {
        metadata: metadata('team-admin'),
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: args.teamGroup }],
      },
      inNs,
    );
    const { quota, containerDefaults } = args.tenancy;
    new k8s.core.v1.ResourceQuota(
      `${ns}-quota`,
      {
        metadata: metadata('team-quota'),
        spec: { hard: { 'requests.cpu': quota.cpu, 'requests.memory': quota.memory, pods: String(quota.pods) } },
      },
      inNs,
    );
    new k8s.core.v1.LimitRange(
      `${ns}-limits`,
      {
        metadata: metadata('team-defaults'),
        spec: {
          limits: [
            {
              type: 'Container',
              defaultRequest: { cpu: containerDefaults.cpuRequest, memory: containerDefaults.memoryRequest },
              default: { memory: containerDefaults.memoryLimit },
            },
          ],
        },
      },
      inNs,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${ns}-default-deny`,
      { metadata: metadata('default-deny'), spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
      inNs,
    );
    // Without DNS nothing works; everything else is for the team to open.
    new k8s.networking.v1.NetworkPolicy(
      `${ns}-allow-dns`,
      {
        metadata: metadata('allow-dns'),
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { protocol: 'UDP', port: 53 },
                { protocol: 'TCP', port: 53 },
              ],
            },
          ],
        },
      },
      inNs,
    );
  }
}

/** Labels clusterd puts on the Kubernetes objects it makes. */
export function objectLabels(context: { clusterName: string; team: string }): Record<string, string> {
  return {
    'app.kubernetes.io/managed-by': 'clusterd',
    'clusterd.io/cluster': context.clusterName,
    'clusterd.io/team': context.team.replace(/-+$/, ''),
  };
}
