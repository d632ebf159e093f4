import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { generateSigningSecret, sign, signedHeaders, verifyWebhook, WebhookVerificationError } from '../../src/webhooks/signature.js';

describe('webhook signatures', () => {
  const secret = generateSigningSecret();
  const body = JSON.stringify({ id: 'e1', type: 'ping', data: { n: 1 } });
  const now = new Date('2025-01-01T12:00:00Z');
  const headers = signedHeaders({ secret, deliveryId: 'd1', eventType: 'ping', body, now });

  it('signs v1=HMAC-SHA256 over "<timestamp>.<body>" with the timestamp in its own header', () => {
    assert.equal(headers['Clusterd-Webhook-Timestamp'], String(now.getTime() / 1000));
    assert.equal(headers['Clusterd-Webhook-Id'], 'd1');
    assert.equal(headers['Clusterd-Webhook-Event'], 'ping');
    assert.match(headers['Clusterd-Webhook-Signature']!, /^v1=[0-9a-f]{64}$/);
    assert.equal(headers['Clusterd-Webhook-Signature'], sign(secret, now.getTime() / 1000, body));
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
  });

  it('verifies a genuine delivery and returns its payload, with Node or fetch headers', () => {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    assert.deepEqual(verifyWebhook({ secret, headers: lower, body, now }), JSON.parse(body));
    assert.deepEqual(verifyWebhook({ secret, headers: new Headers(headers), body: Buffer.from(body), now }), JSON.parse(body));
  });

  it('accepts any one of several signatures (secret rotation)', () => {
    const both = new Headers({ ...headers, 'Clusterd-Webhook-Signature': `v1=${'0'.repeat(64)} ${headers['Clusterd-Webhook-Signature']}` });
    assert.ok(verifyWebhook({ secret, headers: both, body, now }));
  });

  const refused: Array<[string, Parameters<typeof verifyWebhook>[0], RegExp]> = [
    ['a tampered body', { secret, headers: new Headers(headers), body: body.replace('"n":1', '"n":2'), now }, /no signature matches/],
    ['another secret', { secret: generateSigningSecret(), headers: new Headers(headers), body, now }, /no signature matches/],
    [
      'an old timestamp (a replay)',
      { secret, headers: new Headers(headers), body, now: new Date(now.getTime() + 301_000) },
      /outside the tolerance of 300 s/,
    ],
    [
      'a timestamp from the future',
      { secret, headers: new Headers(headers), body, now: new Date(now.getTime() - 61_000), toleranceSec: 60 },
      /outside the tolerance of 60 s/,
    ],
    [
      'a missing signature',
      { secret, headers: new Headers({ 'Clusterd-Webhook-Timestamp': headers['Clusterd-Webhook-Timestamp']! }), body, now },
      /missing/,
    ],
    [
      'a timestamp that is not Unix seconds',
      { secret, headers: new Headers({ ...headers, 'Clusterd-Webhook-Timestamp': '2025-01-01' }), body, now },
      /Unix seconds/,
    ],
  ];
  for (const [what, options, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => verifyWebhook(options),
        (err: unknown) => err instanceof WebhookVerificationError && message.test(err.message),
      );
    });
  }
});
