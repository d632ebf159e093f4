import { z } from 'zod';
import { teamNameSchema } from '../domain/cluster.js';
import { WEBHOOK_EVENT_TYPES } from '../domain/webhook-event.js';

// The description gets this text: RegExp's `source` would escape the slashes.
const URL_PATTERN = '^[Hh][Tt][Tt][Pp][Ss]?://(?:[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?(?:[/?#].*)?$';
/**
 * How a webhook URL is written: http or https (any case), `//`, a host of ASCII letters, digits, `.`,
 * `_` and `-` (IDNs in punycode) or an IPv6 literal in brackets, an optional port, then a path, query
 * or fragment. So no user name or password (they would be sent and logged as part of the URL), and
 * none of the forms a URL parser would quietly repair (`http:/host`, `http:\\host`, spaces).
 */
export const WEBHOOK_URL_PATTERN = new RegExp(URL_PATTERN);

/**
 * Where deliveries go: a URL written as {@link WEBHOOK_URL_PATTERN} says (which the OpenAPI description
 * states), that the WHATWG URL parser, which deliveries use, also takes (a valid IPv4 address when the
 * host ends in a number, a port up to 65535). The rules named: `protocol`, `host`, `no_userinfo`, `url`.
 */
export const webhookUrlSchema = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return void ctx.addIssue({ code: 'custom', message: 'must be an absolute URL', params: { rule: 'url' } });
    }
    const problems: Array<[rule: string, message: string]> = [];
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problems.push(['protocol', 'must use http or https']);
    else if (!url.hostname) problems.push(['host', 'must name a host']);
    if (url.username || url.password) problems.push(['no_userinfo', 'must not contain a user name or password']);
    // Only when no rule above says what is wrong.
    if (!problems.length && !WEBHOOK_URL_PATTERN.test(value))
      problems.push(['url', 'must be written http(s)://host[:port][/path], the host in ASCII (punycode for IDNs)']);
    for (const [rule, message] of problems) ctx.addIssue({ code: 'custom', message, params: { rule } });
  })
  .meta({ pattern: URL_PATTERN });

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
    team: teamNameSchema
      .optional()
      .describe(
        "Whose events: a team token may only name its own team (the default); an admin token may omit it to receive every team's events",
      ),
    description: z.string().max(200, 'must be at most 200 characters').optional(),
  })
  .describe('CreateWebhookRequest');

export type CreateWebhookBody = z.infer<typeof createWebhookBody>;
