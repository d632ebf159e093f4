import type { OutboxEntry } from '../store/outbox-store.js';
import type { SupportNoticeStore } from '../store/support-notice-store.js';
import type { WebhookNotifier } from '../webhooks/notifier.js';

/**
 * The outbox handler of `support.notice`: the `cluster.support-ending` webhook of a recorded
 * warning (its id is the entry's, so a retry records nothing twice). Throws when it could not be recorded.
 */
export function createSupportFollowUp(deps: { notices: Pick<SupportNoticeStore, 'getNotice'>; webhooks: Pick<WebhookNotifier, 'record'> }) {
  return async function followUp(entry: OutboxEntry): Promise<void> {
    const notice = await deps.notices.getNotice(entry.subject);
    // Its cluster was removed since.
    if (!notice) return;
    await deps.webhooks.record(
      { type: 'cluster.support-ending', team: notice.team, cluster: notice.clusterName, data: notice.data },
      { eventId: entry.id, createdAt: notice.at },
    );
  };
}
