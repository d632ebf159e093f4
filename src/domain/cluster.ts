import { z } from 'zod';
import type { MaintenancePolicy } from './maintenance.js';

export const CLUSTER_STATUSES = ['provisioning', 'ready', 'updating', 'failed', 'destroying', 'destroyed'] as const;
export type ClusterStatus = (typeof CLUSTER_STATUSES)[number];

/**
 * A cluster name is also its stack name and, in the cloud blueprints, the cloud cluster name:
 * lowercase DNS label, 3 to 40 characters (EKS and GKE limits leave room for suffixes).
 */
export const clusterNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{1,38}[a-z0-9]$/, 'must be 3-40 characters of a-z, 0-9 and -, start with a letter and not end with -')
  .refine((s) => !s.includes('--'), 'must not contain --')
  // The description carries both rules in one pattern; the checks above keep their own messages.
  .meta({ pattern: '^(?!.*--)[a-z][a-z0-9-]{1,38}[a-z0-9]$' });

export const teamNameSchema = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a lowercase name of a-z, 0-9 and -, up to 63 characters');

/** A label key: 1-63 characters of a-z, 0-9, ., _, / and -, starting and ending with a letter or digit. */
export const LABEL_KEY = /[a-z0-9](?:[a-z0-9._/-]{0,61}[a-z0-9])?/;
/** A label value: empty, or up to 63 characters of A-Z, a-z, 0-9, ., _ and -, starting and ending with a letter or digit. */
export const LABEL_VALUE = /(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?/;
/** Labels a cluster carries at most. */
export const MAX_LABELS = 32;

/** Kubernetes-style label keys and values, so that labels can be copied onto cloud tags. */
export const labelsSchema = z
  .record(
    z.string().regex(new RegExp(`^${LABEL_KEY.source}$`), 'label keys must be 1-63 characters of a-z, 0-9, ., _, / and -'),
    z.string().regex(new RegExp(`^${LABEL_VALUE.source}$`), 'label values must be at most 63 characters of A-Z, a-z, 0-9, ., _ and -'),
  )
  .refine((r) => Object.keys(r).length <= MAX_LABELS, { message: `at most ${MAX_LABELS} labels`, params: { rule: 'max_labels' } })
  .meta({ maxProperties: MAX_LABELS });

/**
 * What a drift check that finds drift leads to: `none` records the report only, `notify` also
 * sends the `drift.detected` webhook, `auto` also queues a `remediate` operation (an update with
 * refresh that brings the cluster back to its desired spec).
 */
export const DRIFT_POLICIES = ['none', 'notify', 'auto'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];

export interface ClusterRecord {
  id: string;
  name: string;
  team: string;
  blueprint: string;
  labels: Record<string, string>;
  /** The desired spec (validated by the blueprint). */
  spec: Record<string, unknown>;
  /** Increments each time the desired spec changes. */
  generation: number;
  /** The spec last applied successfully, and its generation. */
  appliedSpec: Record<string, unknown> | null;
  appliedGeneration: number | null;
  status: ClusterStatus;
  /** Stack outputs with secrets removed. */
  outputs: Record<string, unknown>;
  lastOperationId: string | null;
  /** @see DRIFT_POLICIES */
  driftPolicy: DriftPolicy;
  /** When the cluster is destroyed on its own (ISO-8601), or null for never. */
  expiresAt: string | null;
  /** The cluster's own maintenance policy; null: its team's, if any. */
  maintenance: MaintenancePolicy | null;
  createdAt: string;
  updatedAt: string;
}
