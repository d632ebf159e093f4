/**
 * Signing and verifying webhook deliveries (the Stripe / Standard Webhooks scheme). Depends only on
 * `node:crypto`, so that receivers can copy or import it.
 *
 * Every delivery carries:
 * - `Clusterd-Webhook-Id`: the delivery id, the same on every retry (receivers dedupe on it);
 * - `Clusterd-Webhook-Timestamp`: Unix seconds when this attempt was signed;
 * - `Clusterd-Webhook-Signature`: `v1=<hex>`, HMAC-SHA256 keyed with the subscription's signing
 *   secret (the whole `whsec_…` string, as UTF-8) over `${timestamp}.${body}`. Several signatures may
 *   be given, separated by spaces; one match is enough.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_ID_HEADER = 'Clusterd-Webhook-Id';
export const WEBHOOK_TIMESTAMP_HEADER = 'Clusterd-Webhook-Timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'Clusterd-Webhook-Signature';
export const WEBHOOK_EVENT_HEADER = 'Clusterd-Webhook-Event';

/** How far a delivery's timestamp may be from the receiver's clock. @defaultValue 300 seconds */
export const DEFAULT_TOLERANCE_SEC = 300;

/** A fresh signing secret: `whsec_` and 32 random bytes in base64url. */
export function generateSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** `v1=<hex>` for this body signed at `timestamp` (Unix seconds). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The headers of one delivery attempt, signed now. */
export function signedHeaders(input: {
  secret: string;
  deliveryId: string;
  eventType: string;
  body: string;
  now?: Date;
}): Record<string, string> {
  const timestamp = Math.floor((input.now ?? new Date()).getTime() / 1000);
  return {
    [WEBHOOK_ID_HEADER]: input.deliveryId,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: sign(input.secret, timestamp, input.body),
    [WEBHOOK_EVENT_HEADER]: input.eventType,
  };
}

/** A delivery that must be refused: the message says which check failed. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Request headers as Node (`req.headers`) or fetch (`Headers`) give them. */
export type HeaderSource = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookOptions {
  /** The subscription's signing secret, as returned once by `POST /v1/webhooks`. */
  secret: string;
  headers: HeaderSource;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string | Buffer;
  /** Largest accepted distance between the timestamp and `now`, in seconds. @defaultValue 300 */
  toleranceSec?: number;
  /** The receiver's clock. @defaultValue new Date() */
  now?: Date;
}

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a delivery's signature and timestamp; returns the parsed payload.
 * @throws WebhookVerificationError when a header is missing, the timestamp is outside the tolerance
 *   (a replay), or no signature matches (wrong secret or altered body)
 */
export function verifyWebhook<T = unknown>(options: VerifyWebhookOptions): T {
  const toleranceSec = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const timestampText = header(options.headers, WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(options.headers, WEBHOOK_SIGNATURE_HEADER);
  if (!timestampText || !signatures)
    throw new WebhookVerificationError(`missing ${WEBHOOK_TIMESTAMP_HEADER} or ${WEBHOOK_SIGNATURE_HEADER} header`);
  if (!/^\d{1,12}$/.test(timestampText)) throw new WebhookVerificationError(`${WEBHOOK_TIMESTAMP_HEADER} must be Unix seconds`);
  const timestamp = Number(timestampText);
  const nowSec = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (Math.abs(nowSec - timestamp) > toleranceSec) {
    throw new WebhookVerificationError(`timestamp is ${nowSec - timestamp} s from now, outside the tolerance of ${toleranceSec} s`);
  }
  const body = typeof options.body === 'string' ? options.body : options.body.toString('utf8');
  const expected = Buffer.from(sign(options.secret, timestamp, body));
  const matches = signatures.split(/[\s,]+/).some((candidate) => {
    const given = Buffer.from(candidate);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('no signature matches this body and secret');
  try {
    return JSON.parse(body) as T;
  } catch {
    throw new WebhookVerificationError('body is not JSON');
  }
}
