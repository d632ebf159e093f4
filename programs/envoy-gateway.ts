/**
 * What the `envoyGateway` add-on declares besides its Helm release: an `EnvoyProxy` with
 * production settings for the proxies Envoy Gateway runs per Gateway, and the `envoy`
 * GatewayClass that uses it. Teams then make their own Gateways and HTTPRoutes in their namespaces.
 */
import * as pulumi from '@pulumi/pulumi';
import * as k8s from '@pulumi/kubernetes';
import { ADDON_CATALOG, loadBalancerAnnotations, type ProviderKind } from './addon-catalog.js';

/** Name of the EnvoyProxy and of the GatewayClass clusterd makes. */
export const ENVOY_PROXY_NAME = 'clusterd-default';
export const GATEWAY_CLASS_NAME = 'envoy';

/** The EnvoyProxy and the GatewayClass, after `release` (which brings their CRDs and controller). */
export function envoyGatewayClass(
  kind: ProviderKind,
  release: pulumi.Resource,
  labels: Record<string, string>,
  opts: pulumi.CustomResourceOptions,
): void {
  const namespace = ADDON_CATALOG.envoyGateway.namespace;
  const after = { ...opts, dependsOn: [release] };
  const proxy = new k8s.apiextensions.CustomResource(
    'envoy-proxy',
    {
      apiVersion: 'gateway.envoyproxy.io/v1alpha1',
      kind: 'EnvoyProxy',
      metadata: { name: ENVOY_PROXY_NAME, namespace, labels },
      spec: {
        provider: {
          type: 'Kubernetes',
          kubernetes: {
            envoyDeployment: { replicas: 2 },
            envoyPDB: { minAvailable: 1 },
            // Local keeps client source addresses and avoids a second hop between nodes.
            envoyService: { externalTrafficPolicy: 'Local', annotations: loadBalancerAnnotations(kind) },
          },
        },
      },
    },
    after,
  );
  new k8s.apiextensions.CustomResource(
    'gateway-class',
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: GATEWAY_CLASS_NAME, labels },
      spec: {
        controllerName: 'gateway.envoyproxy.io/gatewayclass-controller',
        parametersRef: { group: 'gateway.envoyproxy.io', kind: 'EnvoyProxy', name: ENVOY_PROXY_NAME, namespace },
      },
    },
    { ...after, dependsOn: [release, proxy] },
  );
}
