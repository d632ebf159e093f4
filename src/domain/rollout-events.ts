/**
 * What a rollout's progress looks like from outside: the events its stream carries and the webhooks
 * some of them become. Derived from the records before and after each change, so that whoever
 * makes the change (a driver, a person's approve or cancel) tells it the same way.
 */
import type { WebhookEventInput, WebhookEventType } from './webhook-event.js';
import { MEMBER_STATES, type RolloutMember, type RolloutRecord } from './rollout.js';

export const ROLLOUT_EVENT_TYPES = ['status', 'stage', 'member', 'finished'] as const;
export type RolloutEventType = (typeof ROLLOUT_EVENT_TYPES)[number];

/** One event of a rollout's stream: `seq` is gap-free per rollout and doubles as the SSE id. */
export interface RolloutEvent {
  rolloutId: string;
  seq: number;
  at: string;
  type: RolloutEventType;
  data: Record<string, unknown>;
}

export type NewRolloutEvent = Pick<RolloutEvent, 'type' | 'data'>;

const stageName = (r: RolloutRecord) => r.stages[r.currentStage]?.name ?? null;

const countsOf = (r: RolloutRecord) => Object.fromEntries(MEMBER_STATES.map((s) => [s, r.members.filter((m) => m.state === s).length]));

/** A member's event: where it stands, and the operation it waits for. */
export function memberEvent(rollout: Pick<RolloutRecord, 'stages'>, m: RolloutMember): NewRolloutEvent {
  return {
    type: 'member',
    data: {
      cluster: m.clusterName,
      stage: rollout.stages[m.stage]?.name ?? null,
      state: m.state,
      operation: m.currentOperationId,
      stepsDone: m.stepsDone,
      error: m.error,
      reason: m.reason,
    },
  };
}

/** Whether a member moved in a way its stream should tell: its state, or the operation it waits for. */
export const memberMoved = (before: RolloutMember, after: RolloutMember) =>
  before.state !== after.state || before.currentOperationId !== after.currentOperationId;

/** The events between two readings of a rollout, in the order a reader should see them. */
export function rolloutChanges(before: RolloutRecord | null, after: RolloutRecord): NewRolloutEvent[] {
  const events: NewRolloutEvent[] = [];
  const beforeMembers = new Map(before?.members.map((m) => [m.clusterId, m]));
  for (const m of after.members) {
    const was = beforeMembers.get(m.clusterId);
    if (was && memberMoved(was, m)) events.push(memberEvent(after, m));
  }
  after.stages.forEach((s, i) => {
    const was = before?.stages[i];
    if (was && was.status !== s.status)
      events.push({
        type: 'stage',
        data: { stage: s.name, status: s.status, soakUntil: s.soakUntil, approvedBy: s.approvedBy, completedAt: s.completedAt },
      });
  });
  if (!before || before.status !== after.status || before.reason !== after.reason)
    events.push({
      type: 'status',
      data: { status: after.status, from: before?.status ?? null, reason: after.reason, stage: stageName(after) },
    });
  if (after.finishedAt && !before?.finishedAt) events.push({ type: 'finished', data: { status: after.status, counts: countsOf(after) } });
  return events;
}

/** The webhook an event becomes, if any. */
export function webhookTypeOf(event: NewRolloutEvent): WebhookEventType | null {
  const { data } = event;
  switch (event.type) {
    case 'status':
      if (data.status === 'awaiting-approval') return 'rollout.awaiting-approval';
      if (data.status === 'halted') return 'rollout.halted';
      return data.from === 'pending' && data.status === 'running' ? 'rollout.started' : null;
    case 'stage':
      return data.status === 'completed' ? 'rollout.stage-completed' : null;
    case 'finished':
      return 'rollout.finished';
    case 'member':
      return null;
  }
}

/** The webhook event of a rollout event: the rollout in brief, and what the event says. */
export function rolloutWebhook(rollout: RolloutRecord, event: RolloutEvent): WebhookEventInput | null {
  const type = webhookTypeOf(event);
  if (!type) return null;
  return {
    type,
    team: rollout.team,
    cluster: null,
    data: {
      rollout: {
        id: rollout.id,
        name: rollout.name,
        requestedBy: rollout.requestedBy,
        href: `/v1/rollouts/${rollout.id}`,
      },
      event: { seq: event.seq, at: event.at, ...event.data },
    },
  };
}
