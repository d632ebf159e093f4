import type { Request } from 'express';
import ipaddr from 'ipaddr.js';

/**
 * Who a per-address limit counts against: the client's IPv4 address, or the /64 network of an
 * IPv6 one (one subscriber usually holds a whole /64, so counting single IPv6 addresses would
 * let it step around the limit). The address is Express's `req.ip`, which honours TRUST_PROXY.
 */
export function clientKey(req: Request): string {
  const raw = req.ip ?? req.socket.remoteAddress ?? '';
  if (!ipaddr.isValid(raw)) return `other:${raw}`;
  const address = ipaddr.process(raw);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}
