import type { z } from 'zod';
import type { ClusterRecord } from '../src/domain/cluster.js';
import type { OperationRecord } from '../src/domain/operation.js';
import type { DeliveryAttempt, WebhookDelivery, WebhookSubscription } from '../src/domain/webhook.js';
import type { DriftReport } from '../src/domain/drift.js';
import { maskSpec } from '../src/blueprints/write-only.js';
import type { clusterSchema, deliverySchema, driftReportSchema, operationSchema, webhookSchema } from './response-schemas.js';

/** The public shape of a cluster: desired and applied spec (write-only fields masked), status, non-secret outputs. */
export function clusterView(c: ClusterRecord, writeOnly: string[] = []): z.output<typeof clusterSchema> {
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
    lastOperation: c.lastOperationId ? { id: c.lastOperationId, href: `/v1/operations/${c.lastOperationId}` } : null,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The public shape of an operation; its spec stays out (it is the cluster's generation `generation`). */
export function operationView(o: OperationRecord): z.output<typeof operationSchema> {
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
    links: { self: `/v1/operations/${o.id}`, events: `/v1/operations/${o.id}/events`, cancel: `/v1/operations/${o.id}/cancel` },
  };
}

/** The public shape of a webhook subscription; its signing secret is never part of it. */
export function webhookView(s: WebhookSubscription): z.output<typeof webhookSchema> {
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

/** The public shape of a delivery: the payload sent and, when listed, every attempt. */
export function deliveryView(d: WebhookDelivery & { attemptLog?: DeliveryAttempt[] }): z.output<typeof deliverySchema> {
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
    ...(d.attemptLog ? { attempts: d.attemptLog } : {}),
  };
}

/** The public shape of a drift report: the cluster is named, its internal id stays out (as in every other answer). */
export function driftReportView(r: DriftReport): z.output<typeof driftReportSchema> {
  const { clusterId: _internal, ...report } = r;
  return report;
}
