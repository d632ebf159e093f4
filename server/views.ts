/**
 * Records -> the JSON answers. Every answer is built here, as an object literal whose type is
 * inferred from its schema in server/schemas/, so that a view that drifts from the description
 * (a field missing, added or of another type) does not compile.
 */
import type { ClusterMaintenance } from '../src/maintenance/maintenance-gate.js';
import type { z } from 'zod';
import type { ClusterRecord } from '../src/domain/cluster.js';
import type { OperationRecord } from '../src/domain/operation.js';
import type { DeliveryAttempt, WebhookDelivery, WebhookSubscription } from '../src/domain/webhook.js';
import type { DriftReport, DriftSweep } from '../src/domain/drift.js';
import type { FleetDriftCounts, FleetDriftSummary } from '../src/store/drift-store.js';
import { maskSpec } from '../src/blueprints/write-only.js';
import type {
  acceptedSchema,
  clusterPageSchema,
  clusterSchema,
  kubeconfigReadsSchema,
  kubeconfigSchema,
  settingsChangedSchema,
} from './schemas/cluster.js';
import type { clusterDriftSchema, driftReportSchema, driftSweepSchema, fleetDriftSchema } from './schemas/drift.js';
import type { operationPageSchema, operationSchema } from './schemas/operation.js';
import type {
  createdWebhookSchema,
  deliveryAttemptSchema,
  deliveryPageSchema,
  deliverySchema,
  webhookListSchema,
  webhookSchema,
} from './schemas/webhook.js';

import { traceIdOf } from '../src/tracing/trace-parent.js';
import type { ClusterSupport } from '../src/versions/cluster-support.js';

/** A page of records as the store gives it. */
interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

type Cluster = z.infer<typeof clusterSchema>;

/** The public shape of a cluster: desired and applied spec (write-only fields masked), status, non-secret outputs. */
export function clusterView(c: ClusterRecord, writeOnly: string[] = [], support: ClusterSupport | null = null): Cluster {
  return {
    name: c.name,
    team: c.team,
    blueprint: c.blueprint,
    labels: c.labels,
    status: c.status,
    spec: maskSpec(c.spec, writeOnly),
    generation: c.generation,
    appliedSpec: maskSpec(c.appliedSpec, writeOnly),
    appliedGeneration: c.appliedGeneration,
    outputs: c.outputs,
    driftPolicy: c.driftPolicy,
    expiresAt: c.expiresAt,
    maintenance: c.maintenance,
    support,
    lastOperation: c.lastOperationId ? { id: c.lastOperationId, href: `/v1/operations/${c.lastOperationId}` } : null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** What a cluster's maintenance policy in effect says now. */
export function maintenanceWindowView(m: ClusterMaintenance): NonNullable<Cluster['maintenanceWindow']> {
  return {
    source: m.inEffect?.source ?? null,
    policy: m.inEffect?.policy ?? null,
    open: m.open,
    closesAt: m.open ? m.closesAt : null,
    waitingFor: m.open ? null : m.waitingFor,
  };
}

/** A page of clusters, each shown by `view` (which knows each blueprint's write-only fields). */
export function clusterPageView(page: Page<ClusterRecord>, view: (c: ClusterRecord) => Cluster): z.infer<typeof clusterPageSchema> {
  return { items: page.items.map(view), nextCursor: page.nextCursor };
}

/** The public shape of an operation; its spec stays out (it is the cluster's generation `generation`). */
export function operationView(o: OperationRecord): z.infer<typeof operationSchema> {
  return {
    id: o.id,
    cluster: o.clusterName,
    team: o.team,
    kind: o.kind,
    status: o.status,
    generation: o.generation,
    requestedBy: o.requestedBy,
    cancelRequested: o.cancelRequested,
    attempts: o.attempts,
    queuedAt: o.queuedAt,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
    summary: o.summary,
    outputs: o.outputs,
    error: o.error,
    supersededBy: o.supersededBy,
    respectMaintenance: o.respectMaintenance,
    waitingFor: o.waitingFor,
    approval: o.approval && {
      state: o.approval.state,
      rule: o.approval.rule,
      required: o.approval.required,
      reasons: o.approval.reasons,
      requestedAt: o.approval.requestedAt,
      expiresAt: o.approval.expiresAt,
      decisions: o.approval.decisions.map(({ decision, by, role, comment, at }) => ({ decision, by, role, comment, at })),
    },
    traceId: traceIdOf(o.traceParent),
    links: {
      self: `/v1/operations/${o.id}`,
      events: `/v1/operations/${o.id}/events`,
      cancel: `/v1/operations/${o.id}/cancel`,
      approve: `/v1/operations/${o.id}/approve`,
      reject: `/v1/operations/${o.id}/reject`,
    },
  };
}

export function operationPageView(page: Page<OperationRecord>): z.infer<typeof operationPageSchema> {
  return { items: page.items.map(operationView), nextCursor: page.nextCursor };
}

/** A change queued: the cluster as it now stands (already shown) and the operation to follow. */
export function acceptedView(cluster: Cluster, operation: OperationRecord, notices: string[] = []): z.infer<typeof acceptedSchema> {
  return { cluster, operation: operationView(operation), ...(notices.length ? { notices } : {}) };
}

/** A PATCH that changed settings only: done at once, no operation. */
export function settingsChangedView(cluster: Cluster): z.infer<typeof settingsChangedSchema> {
  return { cluster, operation: null };
}

export function kubeconfigView(kubeconfig: string): z.infer<typeof kubeconfigSchema> {
  return { kubeconfig };
}

export function kubeconfigReadsView(reads: Array<{ readBy: string; readAt: string }>): z.infer<typeof kubeconfigReadsSchema> {
  return { items: reads.map((r) => ({ readBy: r.readBy, readAt: r.readAt })) };
}

/** The public shape of a webhook subscription; its signing secret is never part of it. */
export function webhookView(s: WebhookSubscription): z.infer<typeof webhookSchema> {
  return {
    id: s.id,
    team: s.team,
    url: s.url,
    events: s.eventTypes,
    description: s.description,
    active: s.active,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    links: { self: `/v1/webhooks/${s.id}`, deliveries: `/v1/webhooks/${s.id}/deliveries`, test: `/v1/webhooks/${s.id}/test` },
  };
}

/** The one answer that carries a subscription's signing secret: the one that created it. */
export function createdWebhookView(s: WebhookSubscription, signingSecret: string): z.infer<typeof createdWebhookSchema> {
  return { ...webhookView(s), signingSecret };
}

export function webhookListView(subscriptions: WebhookSubscription[]): z.infer<typeof webhookListSchema> {
  return { items: subscriptions.map(webhookView) };
}

function deliveryAttemptView(a: DeliveryAttempt): z.infer<typeof deliveryAttemptSchema> {
  return { attempt: a.attempt, at: a.at, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs };
}

/** The public shape of a delivery: the payload sent and, when listed, every attempt. */
export function deliveryView(d: WebhookDelivery & { attemptLog?: DeliveryAttempt[] }): z.infer<typeof deliverySchema> {
  return {
    id: d.id,
    webhookId: d.subscriptionId,
    event: { id: d.eventId, type: d.eventType },
    status: d.status,
    attemptCount: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    finishedAt: d.finishedAt,
    payload: d.payload,
    ...(d.attemptLog ? { attempts: d.attemptLog.map(deliveryAttemptView) } : {}),
  };
}

export function deliveryPageView(page: Page<WebhookDelivery & { attemptLog?: DeliveryAttempt[] }>): z.infer<typeof deliveryPageSchema> {
  return { items: page.items.map(deliveryView), nextCursor: page.nextCursor };
}

/** The public shape of a drift report: the cluster is named, its internal id stays out (as in every other answer). */
export function driftReportView(r: DriftReport): z.infer<typeof driftReportSchema> {
  return {
    id: r.id,
    clusterName: r.clusterName,
    team: r.team,
    blueprint: r.blueprint,
    operationId: r.operationId,
    sweepId: r.sweepId,
    checkedAt: r.checkedAt,
    status: r.status,
    kinds: r.kinds,
    resources: r.resources,
    error: r.error,
    remediation: r.remediation,
  };
}

/** A cluster's latest drift report and a page of its reports, newest first. */
export function clusterDriftView(latest: DriftReport | null, history: Page<DriftReport>): z.infer<typeof clusterDriftSchema> {
  return { latest: latest && driftReportView(latest), items: history.items.map(driftReportView), nextCursor: history.nextCursor };
}

type FleetCounts = z.infer<typeof fleetDriftSchema>['byTeam'][string];
const fleetCountsView = (c: FleetDriftCounts): FleetCounts => ({
  clusters: c.clusters,
  checked: c.checked,
  clean: c.clean,
  drifted: c.drifted,
  failed: c.failed,
  neverChecked: c.neverChecked,
});
const eachCounts = (byKey: Record<string, FleetDriftCounts>) =>
  Object.fromEntries(Object.entries(byKey).map(([key, c]) => [key, fleetCountsView(c)]));

export function fleetDriftView(f: FleetDriftSummary): z.infer<typeof fleetDriftSchema> {
  return { ...fleetCountsView(f), byTeam: eachCounts(f.byTeam), byBlueprint: eachCounts(f.byBlueprint) };
}

export function driftSweepView(s: DriftSweep): z.infer<typeof driftSweepSchema> {
  return {
    id: s.id,
    trigger: s.trigger,
    requestedBy: s.requestedBy,
    status: s.status,
    maxConcurrent: s.maxConcurrent,
    total: s.total,
    clean: s.clean,
    drifted: s.drifted,
    failed: s.failed,
    skipped: s.skipped.map((k) => ({ cluster: k.cluster, reason: k.reason })),
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    error: s.error,
  };
}
