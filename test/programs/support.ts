/**
 * Test support for the built-in programs: Pulumi mocks that record every resource a program
 * registers (type, name, inputs, parent, provider), with outputs shaped like the real providers'
 * where a program reads them. No CLI, no cloud. Call {@link installMocks} once per test file
 * (each file runs in its own process).
 */
import * as pulumi from '@pulumi/pulumi';
import type { InlineProgram } from '../../src/blueprints/blueprint.js';

/** One resource as the mock engine saw it. */
export interface Registered {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent; empty for a root resource. */
  parent: string;
  /** `urn::id` of the provider a custom resource uses; empty when the default provider would be used. */
  provider: string;
  /** Package → provider reference, for components (remote components pass their providers this way). */
  providers: Record<string, string>;
  custom: boolean;
  inputs: Record<string, any>;
  /** URNs of the resources it was declared to depend on (`dependsOn`, and those its inputs come from). */
  dependencies: string[];
}

const registered: Registered[] = [];
let pending: Pick<Registered, 'parent' | 'provider' | 'providers' | 'dependencies'> | null = null;

/** Outputs a real provider adds that the programs read. */
function stateFor(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  switch (type) {
    case 'eks:index:Cluster':
      return {
        ...inputs,
        kubeconfigJson: JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: inputs.name }] }),
        eksCluster: {
          name: inputs.name,
          arn: `arn:aws:eks:eu-west-1:123456789012:cluster/${inputs.name}`,
          endpoint: 'https://ABCDEF.gr7.eu-west-1.eks.amazonaws.com',
          certificateAuthority: { data: 'Q0EtREFUQQ==' },
        },
        oidcIssuer: 'oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
        oidcProviderArn: 'arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABCDEF',
      };
    case 'aws:ec2/launchTemplate:LaunchTemplate':
      return { ...inputs, latestVersion: 1 };
    case 'aws:iam/role:Role':
      return { ...inputs, name: `${name}-role`, arn: `arn:aws:iam::123456789012:role/${name}` };
    case 'gcp:container/cluster:Cluster':
      return { ...inputs, endpoint: '34.1.2.3', masterAuth: { clusterCaCertificate: 'Q0EtREFUQQ==' } };
    case 'gcp:serviceaccount/account:Account':
      return { ...inputs, email: `${inputs.accountId}@${inputs.project}.iam.gserviceaccount.com` };
    default:
      return inputs;
  }
}

/** Installs the mocks and the recorder. */
export async function installMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const where = pending ?? { parent: '', provider: '', providers: {}, dependencies: [] };
        pending = null;
        const parentType = where.parent ? where.parent.split('::')[2]!.split('$').pop() + '$' : '';
        const urn = `urn:pulumi:stack::project::${parentType}${args.type}::${args.name}`;
        registered.push({ type: args.type, name: args.name, urn, custom: args.custom ?? false, inputs: args.inputs, ...where });
        const id = args.custom ? `${args.name}-id` : undefined;
        return { id, state: stateFor(args.type, args.name, args.inputs) };
      },
      call(args) {
        switch (args.token) {
          case 'aws:index/getAvailabilityZones:getAvailabilityZones':
            return { names: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'], zoneIds: ['euw1-az1', 'euw1-az2', 'euw1-az3'] };
          case 'gcp:container/getEngineVersions:getEngineVersions':
            return {
              latestNodeVersion: `${args.inputs.versionPrefix}5-gke.1000`,
              latestMasterVersion: `${args.inputs.versionPrefix}5-gke.1000`,
            };
          default:
            return args.inputs;
        }
      },
    },
    'project',
    'stack',
    false,
  );
  // The mock engine does not tell newResource about parents, providers and dependencies; the request it gets does.
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    pending = {
      parent: req.getParent(),
      provider: req.getProvider(),
      providers: Object.fromEntries(req.getProvidersMap().toArray()),
      dependencies: req.getDependenciesList(),
    };
    return register(req, callback);
  };
}

/** Runs a program and waits until every resource it declares is registered. */
export async function run(program: InlineProgram): Promise<{ outputs: Record<string, unknown>; resources: Registered[] }> {
  registered.length = 0;
  const outputs = (await program()) ?? {};
  for (const value of Object.values(outputs)) if (pulumi.Output.isInstance(value)) await valueOf(value);
  let seen = -1;
  while (seen !== registered.length) {
    seen = registered.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { outputs, resources: [...registered] };
}

/** The resolved value of an output. */
export function valueOf<T>(output: pulumi.Output<T> | unknown): Promise<T> {
  return new Promise((resolve) => (output as pulumi.Output<T>).apply((v) => resolve(v)));
}

/** Resources of one type. */
export function ofType(resources: Registered[], type: string): Registered[] {
  return resources.filter((r) => r.type === type);
}

/** The one resource of a type and name; throws when absent. */
export function find(resources: Registered[], type: string, name: string): Registered {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; have: ${resources.map((r) => `${r.type}::${r.name}`).join(', ')}`);
  return found;
}

/** The chain of parent types of a resource, nearest first. */
export function ancestors(resources: Registered[], resource: Registered): string[] {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const chain: string[] = [];
  for (let parent = byUrn.get(resource.parent); parent; parent = byUrn.get(parent.parent)) chain.push(parent.type);
  return chain;
}
