/**
 * Kubernetes versions the built-in blueprints accept, the node version skew each provider
 * supports, and the EKS-managed add-on versions pinned per Kubernetes version.
 *
 * Update this table when a provider adds or retires a version; a version leaves the table only
 * after every cluster has been upgraded past it (a spec with an unknown version no longer parses).
 */

import type { CalendarConfidence } from '../src/domain/version-support.js';

/** A Kubernetes minor version in `"1.33"` form. */
export type MinorVersion = `1.${number}`;

/**
 * EKS versions in standard or extended support that clusterd creates.
 * https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
 */
export const EKS_VERSIONS = ['1.30', '1.31', '1.32', '1.33'] as const;

/**
 * GKE minor versions available on the Regular channel and as static versions.
 * https://cloud.google.com/kubernetes-engine/docs/release-schedule
 */
export const GKE_VERSIONS = ['1.31', '1.32', '1.33', '1.34'] as const;

/**
 * How many minor versions a node may lag its control plane.
 * EKS: Kubernetes 1.28 widened the kubelet skew to n-3 and EKS follows it for every version above
 * (https://kubernetes.io/releases/version-skew-policy/, EKS "Update existing cluster" guide).
 * GKE: node pools may be at most two minor versions older than the control plane
 * (https://cloud.google.com/kubernetes-engine/versioning#version_skew); we keep GKE's narrower rule.
 */
export const NODE_SKEW = { eks: 3, gke: 2 } as const;

/** The minor number of a `"1.33"` version (33). */
export function minorOf(version: string): number {
  return Number(version.split('.')[1]);
}

/** `"1.<minor>"`. */
export function versionOf(minor: number): string {
  return `1.${minor}`;
}

/** One pinned EKS-managed add-on version, where it was read and when. */
export interface AddonPin {
  /** The add-on version, `v1.14.3-eksbuild.3`. */
  version: string;
  /** Where it was read (a page of the EKS user guide, `aws eks describe-addon-versions`, a cluster seen running it). */
  source: string;
  confidence: CalendarConfidence;
  /** When it was last checked against `source`. `YYYY-MM-DD`. */
  checked: string;
}

/** The EKS-managed add-ons clusterd installs. */
export type EksAddonName = 'vpc-cni' | 'coredns' | 'kube-proxy' | 'aws-ebs-csi-driver';

/** Versions of the EKS-managed add-ons clusterd installs, for one Kubernetes version. */
export interface EksAddonVersions {
  'vpc-cni': string;
  coredns: string;
  'kube-proxy': string;
  'aws-ebs-csi-driver': string;
}

/**
 * EKS-managed add-on versions per Kubernetes version, from the EKS user guide's version tables
 * (managing-vpc-cni, managing-coredns, managing-kube-proxy) and `aws eks describe-addon-versions`.
 * Pinned rather than "latest for this version" so that a run never upgrades an add-on by itself:
 * moving a row is a reviewed change that ships as a new clusterd release.
 */
export const EKS_ADDON_VERSIONS: Record<(typeof EKS_VERSIONS)[number], EksAddonVersions> = {
  '1.30': {
    'vpc-cni': 'v1.20.1-eksbuild.3',
    coredns: 'v1.11.4-eksbuild.22',
    'kube-proxy': 'v1.30.11-eksbuild.5',
    'aws-ebs-csi-driver': 'v1.48.0-eksbuild.1',
  },
  '1.31': {
    'vpc-cni': 'v1.20.1-eksbuild.3',
    coredns: 'v1.11.4-eksbuild.22',
    'kube-proxy': 'v1.31.7-eksbuild.7',
    'aws-ebs-csi-driver': 'v1.48.0-eksbuild.1',
  },
  '1.32': {
    'vpc-cni': 'v1.20.1-eksbuild.3',
    coredns: 'v1.11.4-eksbuild.22',
    'kube-proxy': 'v1.32.3-eksbuild.7',
    'aws-ebs-csi-driver': 'v1.48.0-eksbuild.1',
  },
  '1.33': {
    'vpc-cni': 'v1.20.1-eksbuild.3',
    coredns: 'v1.12.3-eksbuild.1',
    'kube-proxy': 'v1.33.0-eksbuild.2',
    'aws-ebs-csi-driver': 'v1.48.0-eksbuild.1',
  },
};
