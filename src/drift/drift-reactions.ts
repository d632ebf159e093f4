import type { Logger } from 'pino';
import type { ClusterRecord } from '../domain/cluster.js';
import { driftFindings, type DriftReport, type Remediation } from '../domain/drift.js';
import type { WebhookNotifier } from '../webhooks/notifier.js';
import { appliesDesiredSpec, changesStack, type OperationRecord } from '../domain/operation.js';
import { assertNever } from '../domain/assert-never.js';
import { ConflictError } from '../errors.js';
import type { OperationDispatcher } from '../ports.js';
import type { ClusterStore } from '../store/cluster-store.js';
import type { DriftStore } from '../store/drift-store.js';
import type { OperationStore } from '../store/operation-store.js';

export interface DriftReactionsDeps {
  store: Pick<OperationStore, 'pendingOperations' | 'listOperations'> & Pick<ClusterStore, 'enqueueOperation'>;
  drift: Pick<DriftStore, 'recordReport' | 'setRemediation'>;
  dispatcher: OperationDispatcher;
  /** Tells subscribers (webhooks). */
  webhooks: Pick<WebhookNotifier, 'record'>;
  log: Logger;
}

/** Ids and time the reactions to one finished operation give their webhook events, the same on every retry. */
export interface ReactionIdentity {
  driftEventId: string;
  createdAt: string;
}

/** Who the service's own remediation operations are requested by. */
export const REMEDIATION_REQUESTER = 'clusterd (drift remediation)';

/**
 * What follows a finished drift check or remediation: under the cluster's policy, subscribers are
 * told of drift and/or a `remediate` operation is queued. Run from the
 * outbox, so it may run again after a crash: every step finds what an earlier run did and does not
 * repeat it (one report per operation, a remediation decided once, events under fixed ids).
 */
export function createDriftReactions(deps: DriftReactionsDeps) {
  const { store, drift, webhooks, log } = deps;

  async function afterCheck(op: OperationRecord, cluster: ClusterRecord, identity: ReactionIdentity): Promise<DriftReport | null> {
    const findings = driftFindings(op);
    if (!findings) return null;
    const { status, kinds, resources } = findings;
    // Filed with the outcome already; this finds it (or files it, for an outcome recorded before that was so).
    const report = await drift.recordReport({
      clusterId: cluster.id,
      operationId: op.id,
      sweepId: op.sweepId,
      ...findings,
      remediation: { action: 'none' },
    });
    if (status !== 'drifted' || cluster.driftPolicy === 'none') return report;
    let remediation = report.remediation;
    if (remediation.action === 'none') {
      remediation = cluster.driftPolicy === 'auto' ? await remediate(cluster) : { action: 'notified' as const };
      await drift.setRemediation(report.id, remediation);
    }
    await webhooks.record(
      {
        type: 'drift.detected',
        team: cluster.team,
        cluster: cluster.name,
        data: {
          reportId: report.id,
          operationId: op.id,
          sweepId: op.sweepId,
          kinds,
          resources: resources.map(({ urn, type, name, drift: kind, properties }) => ({ urn, type, name, drift: kind, properties })),
          policy: cluster.driftPolicy,
          remediation,
        },
      },
      { eventId: identity.driftEventId, createdAt: identity.createdAt },
    );
    return { ...report, remediation };
  }

  /** Queues a remediation unless the cluster's last change failed (it would only fail again) or someone is changing it. */
  async function remediate(cluster: ClusterRecord): Promise<Remediation> {
    const pending = await store.pendingOperations(cluster.id);
    if (pending.some((o) => changesStack(o.kind))) {
      return { action: 'skipped', reason: 'another operation on the cluster is pending and will apply the desired spec' };
    }
    const { items } = await store.listOperations(cluster.id, 50);
    const lastChange = items.find((o) => appliesDesiredSpec(o.kind) && (o.status === 'succeeded' || o.status === 'failed'));
    if (lastChange?.status === 'failed') {
      return {
        action: 'skipped',
        reason: `the last ${lastChange.kind} (operation ${lastChange.id}) failed; remediation resumes after a successful update`,
      };
    }
    let operation: OperationRecord;
    try {
      operation = await store.enqueueOperation(cluster.id, {
        kind: 'remediate',
        requestedBy: REMEDIATION_REQUESTER,
        respectMaintenance: true,
      });
    } catch (err) {
      // Destroyed, or a destroy queued, since the look above: nothing to bring back.
      if (err instanceof ConflictError) return { action: 'skipped', reason: err.message };
      throw err;
    }
    await deps.dispatcher
      .dispatch(operation)
      .catch((err) => log.warn({ err, operationId: operation.id }, 'could not queue remediation now; the reconciler will'));
    return { action: 'remediating', operationId: operation.id };
  }

  return {
    /** Called for every finished operation; throws when it did not finish, so that the outbox tries again. */
    async afterOperation(op: OperationRecord, cluster: ClusterRecord, identity: ReactionIdentity): Promise<void> {
      switch (op.kind) {
        case 'drift-check':
          await afterCheck(op, cluster, identity);
          return;
        case 'remediate':
          if (op.status !== 'succeeded') return;
          await webhooks.record(
            {
              type: 'drift.remediated',
              team: cluster.team,
              cluster: cluster.name,
              data: { operationId: op.id, requestedBy: op.requestedBy, counts: op.summary?.counts ?? null },
            },
            { eventId: identity.driftEventId, createdAt: identity.createdAt },
          );
          return;
        case 'provision':
        case 'update':
        case 'destroy':
        case 'preview':
        case 'refresh':
          return;
        default:
          assertNever(op.kind, 'operation kind');
      }
    },
  };
}
