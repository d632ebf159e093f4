import { randomUUID } from 'node:crypto';
import type { WebhookDelivery, WebhookSubscription } from '../domain/webhook.js';
import { InputError, NotFoundError } from '../errors.js';
import { describePrincipal, type Principal } from '../auth/principal.js';
import type { Page } from '../domain/page.js';
import type { DeliveryWithAttempts, WebhookStore } from '../store/webhook-store.js';
import { PING_EVENT, type WebhookPayload } from '../domain/webhook-event.js';
import type { ReceiverCheck } from './receiver-check.js';
import type { CreateWebhookBody } from './requests.js';
import { generateSigningSecret } from './signature.js';

export interface WebhookServiceDeps {
  store: WebhookStore;
  /** Records and queues deliveries of a payload (the notifier's `deliver`). */
  deliver(payload: WebhookPayload, options: { only: string }): Promise<WebhookDelivery[]>;
  /** Judges where the URL points (address policy, the name's addresses). */
  checkReceiver: ReceiverCheck;
}

const creator = describePrincipal;

/** Subscriptions as a caller sees them: a team its own, an admin all. Another team's answers 404. */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  /** Creates a subscription; the signing secret is returned here and never again. */
  async create(principal: Principal, body: CreateWebhookBody): Promise<{ subscription: WebhookSubscription; signingSecret: string }> {
    const team = this.teamFor(principal, body.team);
    await this.refuseInternal(body.url);
    const signingSecret = generateSigningSecret();
    const subscription = await this.deps.store.createSubscription({
      team,
      url: body.url,
      eventTypes: body.events,
      description: body.description ?? null,
      createdBy: creator(principal),
      signingSecret,
    });
    return { subscription, signingSecret };
  }

  list(principal: Principal): Promise<WebhookSubscription[]> {
    return this.deps.store.listSubscriptions(principal.admin ? {} : { team: principal.team! });
  }

  async get(principal: Principal, id: string): Promise<WebhookSubscription> {
    const subscription = await this.deps.store.getSubscription(id);
    if (!subscription || (!principal.admin && subscription.team !== principal.team)) throw new NotFoundError(`no webhook with id ${id}`);
    return subscription;
  }

  async delete(principal: Principal, id: string): Promise<void> {
    await this.get(principal, id);
    await this.deps.store.deleteSubscription(id);
  }

  async deliveries(principal: Principal, id: string, limit: number, cursor?: string): Promise<Page<DeliveryWithAttempts>> {
    await this.get(principal, id);
    return this.deps.store.listDeliveries(id, limit, cursor);
  }

  /** Sends a `ping` event to this subscription only. */
  async ping(principal: Principal, id: string): Promise<WebhookDelivery> {
    const subscription = await this.get(principal, id);
    const payload: WebhookPayload = {
      id: randomUUID(),
      type: PING_EVENT,
      createdAt: new Date().toISOString(),
      team: subscription.team,
      cluster: null,
      data: { subscriptionId: subscription.id, requestedBy: creator(principal) },
    };
    const [delivery] = await this.deps.deliver(payload, { only: subscription.id });
    // Deleted between the read and the insert.
    if (!delivery) throw new NotFoundError(`no webhook with id ${id}`);
    return delivery;
  }

  /** Deliveries must not reach our own network: a subscriber would get a signed request to it, and an oracle of what answers there. */
  private async refuseInternal(url: string): Promise<void> {
    const verdict = await this.deps.checkReceiver(url);
    if (verdict.allowed) return;
    const message =
      verdict.by === 'resolution'
        ? `must not resolve to an internal or reserved address (${verdict.reason})`
        : `must not point at an internal or reserved ${verdict.by} (${verdict.reason})`;
    throw new InputError(`url: ${message}`, [{ field: 'url', rule: 'internal_address', message }]);
  }

  private teamFor(principal: Principal, requested: string | undefined): string | null {
    if (principal.admin) return requested ?? null;
    if (requested && requested !== principal.team) {
      const message = `must be your own team ("${principal.team}")`;
      throw new InputError(`team: ${message}`, [{ field: 'team', rule: 'own_team', message }]);
    }
    return principal.team!;
  }
}
