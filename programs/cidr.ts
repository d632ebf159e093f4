/**
 * IPv4 CIDR arithmetic for specs and programs: parsing, alignment, overlap and subnet carving.
 * Pure functions, no dependencies: the API process uses them to validate specs.
 */

/** A parsed IPv4 CIDR block. */
export interface Ipv4Block {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  /** Prefix length, 0-32. */
  prefix: number;
}

const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; null when it is not an IPv4 CIDR or has host bits set. */
export function parseCidr(cidr: string): Ipv4Block | null {
  const m = CIDR.exec(cidr);
  if (!m) return null;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return null;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const block = { base: address, prefix };
  return address === networkOf(block) ? block : null;
}

/** Why `cidr` is not a valid IPv4 network block, or null when it is. */
export function cidrProblem(cidr: string): string | null {
  const m = CIDR.exec(cidr);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255) || Number(m[5]) > 32) return 'must be an IPv4 CIDR block like 10.0.0.0/16';
  if (!parseCidr(cidr))
    return `has host bits set: the network is ${formatCidr({ base: networkOf({ base: toInt(m), prefix: Number(m[5]) }), prefix: Number(m[5]) })}`;
  return null;
}

const toInt = (m: RegExpExecArray) =>
  m
    .slice(1, 5)
    .map(Number)
    .reduce((acc, o) => acc * 256 + o, 0);

function size(prefix: number): number {
  return 2 ** (32 - prefix);
}

function networkOf(block: Ipv4Block): number {
  return block.base - (block.base % size(block.prefix));
}

/** `a.b.c.d/n` of a block. */
export function formatCidr(block: Ipv4Block): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(block.base / 2 ** shift) % 256);
  return `${o.join('.')}/${block.prefix}`;
}

/** True when the two blocks share at least one address. */
export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.base < b.base + size(b.prefix) && b.base < a.base + size(a.prefix);
}

/** True when the block lies inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16. */
export function isPrivate(block: Ipv4Block): boolean {
  return ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].some((r) => contains(parseCidr(r)!, block));
}

/** True when `inner` lies entirely inside `outer`. */
export function contains(outer: Ipv4Block, inner: Ipv4Block): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + size(inner.prefix) <= outer.base + size(outer.prefix);
}

/**
 * The `index`-th sub-block of `cidr` that is `newBits` longer (Terraform's `cidrsubnet`).
 * Throws when the block does not have that many sub-blocks; specs are validated before this runs.
 */
export function cidrSubnet(cidr: string, newBits: number, index: number): string {
  const block = parseCidr(cidr);
  if (!block) throw new Error(`cidrSubnet: ${cidr} is not a network block`);
  const prefix = block.prefix + newBits;
  if (prefix > 32 || index < 0 || index >= 2 ** newBits) throw new Error(`cidrSubnet: ${cidr} has no sub-block ${index} of /${prefix}`);
  return formatCidr({ base: block.base + index * size(prefix), prefix });
}
