/**
 * `clusterd:eks:Vpc`: the network of an EKS cluster made with plain `@pulumi/aws` ec2 resources:
 * per zone a public subnet (load balancers, NAT) and a private one (nodes and pods), an internet
 * gateway, NAT gateways, route tables, an S3 gateway endpoint, and the subnet tags the AWS load
 * balancer integrations look for.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { cidrSubnet } from './cidr.js';

/** Arguments of {@link EksVpc}. */
export interface EksVpcArgs {
  /** VPC block, /16 to /20 (validated by the spec). */
  cidr: string;
  /** Availability zone names, 2 to 6. */
  zones: pulumi.Input<string>[];
  /** `one-per-zone` or `single`. */
  natGateways: 'one-per-zone' | 'single';
  /** The EKS cluster's name, for the `kubernetes.io/cluster/<name>` subnet tag. */
  clusterName: string;
  /** Tags on every resource that takes them. */
  tags: Record<string, string>;
  region: string;
}

/** A VPC for one EKS cluster. */
export class EksVpc extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly publicSubnetIds: pulumi.Output<string>[];

  constructor(name: string, args: EksVpcArgs, opts?: pulumi.ComponentResourceOptions) {
    super('clusterd:eks:Vpc', name, {}, opts);
    const child = { parent: this };
    const named = (suffix: string) => ({ ...args.tags, Name: `${args.clusterName}-${suffix}` });
    const clusterTag = { [`kubernetes.io/cluster/${args.clusterName}`]: 'shared' };

    const vpc = new aws.ec2.Vpc(
      'vpc',
      { cidrBlock: args.cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: named('vpc') },
      child,
    );
    const igw = new aws.ec2.InternetGateway('igw', { vpcId: vpc.id, tags: named('igw') }, child);
    const publicRoutes = new aws.ec2.RouteTable(
      'public',
      { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', gatewayId: igw.id }], tags: named('public') },
      child,
    );

    const nats: aws.ec2.NatGateway[] = [];
    const privateRouteTables: pulumi.Output<string>[] = [];
    this.publicSubnetIds = [];
    this.privateSubnetIds = [];
    args.zones.forEach((zone, i) => {
      // Private subnets take 1/8 of the VPC each (pods get VPC addresses); public ones 1/64, from the top.
      const pub = new aws.ec2.Subnet(
        `public-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidrSubnet(args.cidr, 6, 56 + i),
          availabilityZone: zone,
          tags: { ...named(`public-${i}`), ...clusterTag, 'kubernetes.io/role/elb': '1' },
        },
        child,
      );
      new aws.ec2.RouteTableAssociation(`public-${i}`, { subnetId: pub.id, routeTableId: publicRoutes.id }, child);
      if (args.natGateways === 'one-per-zone' || i === 0) {
        const eip = new aws.ec2.Eip(`nat-${i}`, { domain: 'vpc', tags: named(`nat-${i}`) }, child);
        nats.push(
          new aws.ec2.NatGateway(
            `nat-${i}`,
            { allocationId: eip.id, subnetId: pub.id, tags: named(`nat-${i}`) },
            { ...child, dependsOn: [igw] },
          ),
        );
      }
      const nat = nats[args.natGateways === 'one-per-zone' ? i : 0]!;
      const priv = new aws.ec2.Subnet(
        `private-${i}`,
        {
          vpcId: vpc.id,
          cidrBlock: cidrSubnet(args.cidr, 3, i),
          availabilityZone: zone,
          tags: { ...named(`private-${i}`), ...clusterTag, 'kubernetes.io/role/internal-elb': '1' },
        },
        child,
      );
      const routes = new aws.ec2.RouteTable(
        `private-${i}`,
        { vpcId: vpc.id, routes: [{ cidrBlock: '0.0.0.0/0', natGatewayId: nat.id }], tags: named(`private-${i}`) },
        child,
      );
      new aws.ec2.RouteTableAssociation(`private-${i}`, { subnetId: priv.id, routeTableId: routes.id }, child);
      privateRouteTables.push(routes.id);
      this.publicSubnetIds.push(pub.id);
      this.privateSubnetIds.push(priv.id);
    });
    // Image layers from ECR come from S3: a gateway endpoint keeps that traffic off the NAT gateways.
    new aws.ec2.VpcEndpoint(
      's3',
      {
        vpcId: vpc.id,
        serviceName: `com.amazonaws.${args.region}.s3`,
        vpcEndpointType: 'Gateway',
        routeTableIds: privateRouteTables,
        tags: named('s3'),
      },
      child,
    );
    this.vpcId = vpc.id;
    this.registerOutputs({ vpcId: this.vpcId, privateSubnetIds: this.privateSubnetIds, publicSubnetIds: this.publicSubnetIds });
  }
}
