/**
 * Kubernetes versions the built-in blueprints accept, the node version skew each provider
 * supports, and the EKS-managed add-on versions pinned per Kubernetes version.
 *
 * A version stays in these lists after its support ends, until every cluster has been upgraded
 * past it: a spec with an unknown version no longer parses. Whether a new cluster may start on a
 * version is the support calendar's business (programs/version-calendars.ts), read by the service.
 */

import type { CalendarConfidence } from '../src/domain/version-support.js';

/** A Kubernetes minor version in `"1.33"` form. */
export type MinorVersion = `1.${number}`;

/**
 * EKS versions a spec may name, old ones included.
 * https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html
 */
export const EKS_VERSIONS = ['1.30', '1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] as const;

export type EksVersion = (typeof EKS_VERSIONS)[number];

/**
 * GKE minor versions a spec may name, old ones included.
 * https://cloud.google.com/kubernetes-engine/docs/release-schedule
 */
export const GKE_VERSIONS = ['1.31', '1.32', '1.33', '1.34', '1.35', '1.36'] as const;

export type GkeVersion = (typeof GKE_VERSIONS)[number];

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

export const EKS_ADDON_NAMES: readonly EksAddonName[] = ['vpc-cni', 'coredns', 'kube-proxy', 'aws-ebs-csi-driver'];

/** Versions of the EKS-managed add-ons clusterd installs, for one Kubernetes version. */
export type EksAddonVersions = Record<EksAddonName, string>;

const GUIDE = 'https://docs.aws.amazon.com/eks/latest/userguide';
// The English pages could not be read on 2026-11-30: AWS's machine-translated copies carry the same version strings.
const KUBE_PROXY =
  'https://docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-kube-proxy.md (AWS machine-translated copy of the EKS user guide)';
const COREDNS =
  'https://docs.aws.amazon.com/ja_jp/eks/latest/userguide/managing-coredns.md (AWS machine-translated copy of the EKS user guide)';
const VPC_CNI = 'https://docs.amazonaws.cn/eks/latest/userguide/pod-networking.html (version table; an English markdown copy agrees)';
// The official table for 1.35 and 1.36 could not be read: these builds are what EKS resolved on real clusters.
const SEEN_VPC_CNI_136 = 'resolved by EKS on real 1.36 clusters, seen in third-party infrastructure code (Sept 2026)';
const SEEN_VPC_CNI_135 =
  'resolved by EKS on real 1.34 and 1.35 clusters, seen in third-party infrastructure code (2026); a v1.21 build between 1.34 (v1.20) and 1.36 (v1.22), because EKS updates the vpc-cni add-on one minor version at a time (EKS user guide, eks-add-ons, "Update information")';
const SEEN_EBS =
  'resolved by EKS on a real 1.36 cluster, seen in third-party infrastructure code; used for every version because EKS publishes no per-version table and the driver supports every EKS version (kubernetes-sigs/aws-ebs-csi-driver README)';
// The 1.30 and 1.31 rows predate the 2026-11-30 check and were not re-read (both are past extended support): their
// values are the guide's of mid-2025; the day they were read was not recorded, so `checked` is approximate.
const OLD_GUIDE = `${GUIDE} add-on version tables (managing-vpc-cni, managing-coredns, managing-kube-proxy), as of mid-2025`;

const official = (version: string, source: string): AddonPin => ({ version, source, confidence: 'official', checked: '2026-11-30' });
const secondary = (version: string, source: string): AddonPin => ({ version, source, confidence: 'secondary', checked: '2026-11-30' });
const legacy = (version: string): AddonPin => ({ version, source: OLD_GUIDE, confidence: 'official', checked: '2025-08-01' });

/**
 * EKS-managed add-on versions per Kubernetes version, each with where it was read.
 * Pinned rather than "latest for this version" so that a run never upgrades an add-on by itself:
 * moving a row is a reviewed change that ships as a new clusterd release (and upgrades the add-on
 * of every cluster on that version at its next run). EKS moves vpc-cni one minor version at a
 * time, so two consecutive Kubernetes versions never pin it more than one minor version apart (an
 * upgrade would fail at the add-on). 1.30 and 1.31 are past the end of extended
 * support: their rows only keep the clusters still on them running.
 * Refresh with `aws eks describe-addon-versions --kubernetes-version <v> --addon-name <name>`.
 */
export const EKS_ADDON_PINS: Record<EksVersion, Record<EksAddonName, AddonPin>> = {
  '1.30': {
    'vpc-cni': legacy('v1.20.1-eksbuild.3'),
    coredns: legacy('v1.11.4-eksbuild.22'),
    'kube-proxy': legacy('v1.30.11-eksbuild.5'),
    'aws-ebs-csi-driver': legacy('v1.48.0-eksbuild.1'),
  },
  '1.31': {
    'vpc-cni': legacy('v1.20.1-eksbuild.3'),
    coredns: legacy('v1.11.4-eksbuild.22'),
    'kube-proxy': legacy('v1.31.7-eksbuild.7'),
    'aws-ebs-csi-driver': legacy('v1.48.0-eksbuild.1'),
  },
  '1.32': {
    'vpc-cni': official('v1.20.4-eksbuild.1', VPC_CNI),
    coredns: official('v1.11.4-eksbuild.40', COREDNS),
    'kube-proxy': official('v1.32.13-eksbuild.16', KUBE_PROXY),
    'aws-ebs-csi-driver': secondary('v1.63.1-eksbuild.1', SEEN_EBS),
  },
  '1.33': {
    'vpc-cni': official('v1.20.4-eksbuild.1', VPC_CNI),
    coredns: official('v1.12.4-eksbuild.18', COREDNS),
    'kube-proxy': official('v1.33.10-eksbuild.13', KUBE_PROXY),
    'aws-ebs-csi-driver': secondary('v1.63.1-eksbuild.1', SEEN_EBS),
  },
  '1.34': {
    'vpc-cni': official('v1.20.4-eksbuild.1', VPC_CNI),
    coredns: official('v1.13.2-eksbuild.11', COREDNS),
    'kube-proxy': official('v1.34.6-eksbuild.13', KUBE_PROXY),
    'aws-ebs-csi-driver': secondary('v1.63.1-eksbuild.1', SEEN_EBS),
  },
  '1.35': {
    'vpc-cni': secondary('v1.21.1-eksbuild.7', SEEN_VPC_CNI_135),
    coredns: official('v1.14.3-eksbuild.3', COREDNS),
    'kube-proxy': official('v1.35.3-eksbuild.13', KUBE_PROXY),
    'aws-ebs-csi-driver': secondary('v1.63.1-eksbuild.1', SEEN_EBS),
  },
  '1.36': {
    'vpc-cni': secondary('v1.22.4-eksbuild.3', SEEN_VPC_CNI_136),
    coredns: official('v1.14.3-eksbuild.3', COREDNS),
    'kube-proxy': official('v1.36.0-eksbuild.14', KUBE_PROXY),
    'aws-ebs-csi-driver': secondary('v1.63.1-eksbuild.1', SEEN_EBS),
  },
};

/** The pinned add-on versions alone, per Kubernetes version: what the program installs. */
export const EKS_ADDON_VERSIONS = Object.fromEntries(
  Object.entries(EKS_ADDON_PINS).map(([k8s, pins]) => [k8s, Object.fromEntries(EKS_ADDON_NAMES.map((name) => [name, pins[name].version]))]),
) as Record<EksVersion, EksAddonVersions>;

/**
 * Whether every add-on of `version` has a pin seen in use (official or secondary), none worked out
 * by inference: only then may a new cluster start on it. False for a version without pins.
 */
export function verifiedAddonPins(version: string): boolean {
  const pins = (EKS_ADDON_PINS as Partial<Record<string, Partial<Record<EksAddonName, AddonPin>>>>)[version];
  return pins !== undefined && EKS_ADDON_NAMES.every((name) => pins[name] !== undefined && pins[name].confidence !== 'inferred');
}
