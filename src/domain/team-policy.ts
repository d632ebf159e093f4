import type { ApprovalRule } from './approval.js';

/**
 * What a team may create and change: limits on its fleet, the blueprints, regions and instance
 * types it may use, the longest life of its clusters, and labels every cluster must carry. Set by
 * an admin (`PUT /v1/teams/{team}/policy`); read against a blueprint's facts, never its spec.
 */
export interface TeamPolicy {
  /** Live clusters the team may have. */
  maxClusters?: number;
  /** Sum of the node pools' maximum sizes over the team's live clusters. */
  maxNodes?: number;
  /** Blueprints the team may create clusters of; absent: any. */
  blueprints?: string[];
  /** Per blueprint: allowed regions and instance types, as patterns where `*` matches any run of characters. */
  rules?: Record<string, { regions?: string[]; instanceTypes?: string[] }>;
  /** Longest life of a cluster (`7d`); absent: the service's default (CLUSTER_MAX_TTL). */
  maxTtl?: string;
  /** Label keys every cluster must carry, each with the values allowed (empty: any value). */
  requiredLabels?: Record<string, string[]>;
  /** Which operations wait for a second pair of eyes before they change anything. */
  approval?: ApprovalRule;
}

/** What a team's live clusters hold against its limits. */
export interface TeamUsage {
  clusters: number;
  /** Sum of the node pools' maximum sizes. */
  nodes: number;
}
