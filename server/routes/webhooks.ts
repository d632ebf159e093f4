import { Router } from 'express';
import { parseOrThrow } from '../../src/lifecycle/parse.js';
import { createWebhookBody } from '../../src/webhooks/requests.js';
import type { WebhookService } from '../../src/webhooks/webhook-service.js';
import { principalOf } from '../auth.js';
import { limitPerToken } from '../rate-limit.js';
import type { RateLimiter } from '../../src/limits/rate-limiter.js';
import { listDeliveriesQuery } from '../schemas/list-queries.js';
import { webhookIdParam } from '../schemas/path-params.js';
import { createdWebhookView, deliveryPageView, deliveryView, webhookListView, webhookView } from '../views.js';

/** /v1/webhooks: subscribe, list, read, delete, see deliveries, send a test ping. */
export function webhooksRouter(deps: { webhooks: WebhookService; limits?: { webhookTests?: RateLimiter } }): Router {
  const { webhooks } = deps;
  const router = Router();
  const idOf = (params: unknown) => parseOrThrow(webhookIdParam, params, '', 'path').id;

  router.post('/', async (req, res) => {
    const { subscription, signingSecret } = await webhooks.create(principalOf(req), parseOrThrow(createWebhookBody, req.body));
    // The only answer that ever carries the secret.
    res.status(201).location(`/v1/webhooks/${subscription.id}`).json(createdWebhookView(subscription, signingSecret));
  });

  router.get('/', async (req, res) => {
    res.json(webhookListView(await webhooks.list(principalOf(req))));
  });

  router.get('/:id', async (req, res) => {
    res.json(webhookView(await webhooks.get(principalOf(req), idOf(req.params))));
  });

  router.delete('/:id', async (req, res) => {
    await webhooks.delete(principalOf(req), idOf(req.params));
    res.status(204).end();
  });

  router.get('/:id/deliveries', async (req, res) => {
    const q = parseOrThrow(listDeliveriesQuery, req.query, 'query', 'query');
    const page = await webhooks.deliveries(principalOf(req), idOf(req.params), q.limit, q.cursor);
    res.json(deliveryPageView(page));
  });

  router.post('/:id/test', limitPerToken(deps.limits?.webhookTests, 'webhook test pings'), async (req, res) => {
    res.status(202).json(deliveryView(await webhooks.ping(principalOf(req), idOf(req.params))));
  });

  return router;
}
