import { z } from 'zod';
import { teamNameSchema } from '../domain/cluster.js';
import { pageQuery } from '../lifecycle/requests.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';

/** Where deliveries go: an absolute http or https URL without a user name or password (they would be sent and logged as part of it). */
export const webhookUrlSchema = z.string().max(2048, 'must be at most 2048 characters').superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void ctx.addIssue({ code: 'custom', message: 'must be an absolute URL', params: { rule: 'url' } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use http or https', params: { rule: 'protocol' } });
  else if (!url.hostname) ctx.addIssue({ code: 'custom', message: 'must name a host', params: { rule: 'host' } });
  if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password', params: { rule: 'no_userinfo' } });
});

/** Body of POST /v1/webhooks. */
export const createWebhookBody = z
  .strictObject({
    url: webhookUrlSchema.describe(
      'Where deliveries are POSTed: http or https, no user name or password. It must reach a public address: ' +
        'loopback, private (RFC 1918), link-local (cloud metadata), carrier-grade NAT, unique local, multicast, unspecified, broadcast and reserved addresses, ' +
        'IPv6 forms that embed such an IPv4 address, and local names (localhost, *.localhost, *.internal, *.local, single labels, cloud metadata names) ' +
        'answer 400 with rule internal_address, unless the operator allowed them (WEBHOOK_ALLOWED_NETWORKS, WEBHOOK_ALLOWED_HOSTS). ' +
        'A name is resolved and refused if any of its addresses is; one that does not resolve yet is accepted, and every delivery checks again.',
    ),
    events: z
      .array(z.enum(WEBHOOK_EVENT_TYPES))
      .min(1, 'must name at least one event type')
      .refine((types) => new Set(types).size === types.length, { message: 'must not repeat an event type', params: { rule: 'unique' } })
      .meta({ uniqueItems: true })
      .describe('Event types to receive'),
    team: teamNameSchema.optional().describe("Whose events: a team token may only name its own team (the default); an admin token may omit it to receive every team's events"),
    description: z.string().max(200, 'must be at most 200 characters').optional(),
  })
  .describe('CreateWebhookRequest');

export const webhookIdParam = z.strictObject({ id: z.uuid() });

export const listDeliveriesQuery = z.strictObject(pageQuery);

export type CreateWebhookBody = z.infer<typeof createWebhookBody>;
