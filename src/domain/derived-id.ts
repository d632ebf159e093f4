import { createHash } from 'node:crypto';

/**
 * A UUID derived from another id and a label (RFC 9562 version 8, from SHA-256): the same inputs
 * always give the same id, so a consequence retried after a crash (a webhook event of an outbox
 * entry, say) is recognised as the same one instead of being repeated.
 */
export function derivedId(base: string, label: string): string {
  const h = createHash('sha256').update(`${base}\n${label}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x80;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
