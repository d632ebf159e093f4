import { rolloutWebhook } from '../domain/rollout-events.js';
import type { OutboxEntry } from '../store/outbox-store.js';
import type { RolloutStore } from '../store/rollout-store.js';
import type { WebhookNotifier } from '../webhooks/notifier.js';

/**
 * The outbox handler of `rollout.event`: the webhook of a rollout event (its id is the entry's, so a
 * retry records nothing twice). Throws when it could not be recorded.
 */
export function createRolloutFollowUp(deps: {
  rollouts: Pick<RolloutStore, 'getRollout' | 'getEvent'>;
  webhooks: Pick<WebhookNotifier, 'record'>;
}) {
  return async function followUp(entry: OutboxEntry): Promise<void> {
    const [id, seq] = entry.subject.split('/');
    const event = await deps.rollouts.getEvent(id ?? '', Number(seq));
    const rollout = event && (await deps.rollouts.getRollout(event.rolloutId));
    // Nothing left to tell about (removed by hand).
    if (!event || !rollout) return;
    const webhook = rolloutWebhook(rollout, event);
    if (webhook) await deps.webhooks.record(webhook, { eventId: entry.id, createdAt: event.at });
  };
}
