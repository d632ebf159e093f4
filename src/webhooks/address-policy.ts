import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;
type Network = [Address, number];

/** Whether webhook deliveries may go to an address or host; `reason` says which rule refused it (for the registering caller, never the delivery log). */
export type Verdict = { allowed: true } | { allowed: false; reason: string };

/** A URL host as the policy sees it: an IP literal (`address` in canonical form), or a name whose addresses still need checking unless `trusted`. */
export type HostVerdict =
  { kind: 'address'; address: string; verdict: Verdict } | { kind: 'name'; name: string; verdict: Verdict; trusted: boolean };

export interface AddressPolicyOptions {
  /** Networks (CIDR, or a bare address for one host) whose addresses are allowed although internal, e.g. `10.20.0.0/16`. @defaultValue none */
  allowedNetworks?: readonly string[];
  /** Host names allowed exactly as given (no subdomains), whatever they resolve to. @defaultValue none */
  allowedHosts?: readonly string[];
}

export interface AddressPolicy {
  /** Judges one IP address, in any spelling ipaddr.js parses (`127.1`, `0x7f000001`, `::ffff:7f00:1`). */
  checkAddress(address: string): Verdict;
  /** Judges a URL's host (`URL.hostname`: brackets and a trailing dot are fine). */
  checkHost(host: string): HostVerdict;
}

const ALLOW: Verdict = { allowed: true };
const refuse = (reason: string): Verdict => ({ allowed: false, reason });

/** No allowance can make these a destination: they are not one host (or, for 0.0.0.0 and ::, they mean this one). */
const NEVER = new Set(['unspecified', 'broadcast', 'multicast']);

const IPV4_WORDS: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  loopback: 'loopback',
  linkLocal: 'link-local, where cloud metadata lives',
  private: 'private network',
  carrierGradeNat: 'carrier-grade NAT',
};
const IPV6_WORDS: Record<string, string> = {
  unspecified: 'unspecified',
  multicast: 'multicast',
  loopback: 'loopback',
  linkLocal: 'link-local',
  uniqueLocal: 'unique local',
  deprecatedSiteLocal: 'site-local',
  '6to4': '6to4, embeds an IPv4 address',
  teredo: 'Teredo, embeds an IPv4 address',
  rfc6052: 'NAT64 local use',
};

/**
 * Public addresses that are nonetheless a cloud platform's own endpoint inside every VM:
 * Azure's WireServer (168.63.129.16) answers only from inside the tenant's network.
 */
const CLOUD_ENDPOINTS: Network[] = [[ipaddr.parse('168.63.129.16'), 32]];

/** Only global unicast (2000::/3) is assigned for the public internet; anything outside it is reserved or special. */
const GLOBAL_UNICAST: Network = [ipaddr.parse('2000::'), 3];
/** RFC 6052 well-known NAT64 prefix: DNS64 hands these out for IPv4-only names, so judge the IPv4 inside. */
const NAT64_WELL_KNOWN: Network = [ipaddr.parse('64:ff9b::'), 96];
/** Deprecated IPv4-compatible addresses (::a.b.c.d). */
const IPV4_COMPATIBLE: Network = [ipaddr.parse('::'), 96];

/**
 * Names a public receiver cannot have: `localhost` and names under top-level domains kept for
 * local or private use (RFC 6761, RFC 6762 appendix G, RFC 8375, ICANN's `.internal`), which cover
 * `metadata.google.internal` and `instance-data.ec2.internal`, and Kubernetes service names.
 */
const LOCAL_SUFFIXES = ['localhost', 'local', 'localdomain', 'internal', 'intranet', 'private', 'corp', 'home', 'lan', 'home.arpa', 'svc'];
/**
 * Cloud metadata services reached by a name (as their providers document them): Google's (also
 * under `.internal`) and Tencent Cloud's, which sits under a public domain.
 */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.tencentyun.com']);

/** Lowercase, without IPv6 brackets or the trailing dot of a fully qualified name. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.+$/, '');
}

/** Parses `WEBHOOK_ALLOWED_NETWORKS` entries; throws naming the first one that is not a CIDR or an address. */
export function parseNetworks(entries: readonly string[]): Network[] {
  return entries.map((entry) => {
    const text = entry.trim();
    try {
      // A bare address allows that one host.
      if (!text.includes('/')) {
        const address = ipaddr.parse(text);
        return [address, address.kind() === 'ipv4' ? 32 : 128] as Network;
      }
      return ipaddr.parseCIDR(text);
    } catch {
      throw new Error(`"${entry}" is not a network like 10.0.0.0/8 or fd00::/8, nor an address`);
    }
  });
}

/** Checks a `WEBHOOK_ALLOWED_HOSTS` entry: a DNS name (ASCII or punycode), not an address. Returns the normalized name. */
export function parseAllowedHost(entry: string): string {
  const name = normalizeHost(entry);
  if (isIP(name) || ipaddr.isValid(name)) throw new Error(`"${entry}" is an address: put addresses in WEBHOOK_ALLOWED_NETWORKS`);
  if (!/^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/.test(name)) {
    throw new Error(`"${entry}" is not a host name`);
  }
  return name;
}

const inAny = (address: Address, networks: readonly Network[]) =>
  networks.some(([net, bits]) => net.kind() === address.kind() && address.match(net, bits));

/** The IPv4 address an IPv6 one stands for when it is only a way of writing or translating it. */
function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || address.match(NAT64_WELL_KNOWN)) {
    const [hi, lo] = [address.parts[6]!, address.parts[7]!];
    return new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  }
  return null;
}

/**
 * The rule for where webhooks may go: ordinary public unicast only, unless the operator allowed a
 * network or a host name. Pure: no DNS, no I/O.
 */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const allowedNetworks = parseNetworks(options.allowedNetworks ?? []);
  const allowedHosts = new Set((options.allowedHosts ?? []).map(parseAllowedHost));

  function judgeIPv4(address: ipaddr.IPv4): Verdict {
    const range = address.range();
    if (NEVER.has(range)) return refuse(IPV4_WORDS[range]!);
    if (inAny(address, allowedNetworks)) return ALLOW;
    if (range !== 'unicast') return refuse(IPV4_WORDS[range] ?? 'reserved');
    if (inAny(address, CLOUD_ENDPOINTS)) return refuse('cloud platform endpoint');
    return ALLOW;
  }

  function judgeIPv6(address: ipaddr.IPv6): Verdict {
    const embedded = embeddedIPv4(address);
    if (embedded) return judgeIPv4(embedded);
    const range = address.range();
    if (NEVER.has(range)) return refuse(IPV6_WORDS[range]!);
    if (inAny(address, allowedNetworks)) return ALLOW;
    if (range !== 'unicast') return refuse(IPV6_WORDS[range] ?? 'reserved');
    if (address.match(IPV4_COMPATIBLE)) return refuse('IPv4-compatible, embeds an IPv4 address');
    if (!address.match(GLOBAL_UNICAST)) return refuse('reserved');
    return ALLOW;
  }

  function checkAddress(text: string): Verdict {
    let address: Address;
    try {
      address = ipaddr.parse(normalizeHost(text));
    } catch {
      return refuse('not an IP address');
    }
    return address.kind() === 'ipv4' ? judgeIPv4(address as ipaddr.IPv4) : judgeIPv6(address as ipaddr.IPv6);
  }

  function checkName(name: string): Verdict {
    if (METADATA_NAMES.has(name)) return refuse('cloud metadata name');
    if (LOCAL_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`))) return refuse('local or private name');
    // A single label (`metadata`, `instance-data`, `kubernetes`) is completed by the resolver's search domains.
    if (!name.includes('.')) return refuse('single-label name, resolved inside the local network');
    return ALLOW;
  }

  return {
    checkAddress,
    checkHost(host) {
      const normalized = normalizeHost(host);
      // ipaddr.js also reads the legacy spellings (127.1, 0x7f000001) that a resolver would turn into addresses.
      if (isIP(normalized) || ipaddr.isValid(normalized)) {
        // Connect to the address as judged, never to a spelling a resolver might read differently.
        return { kind: 'address', address: ipaddr.parse(normalized).toString(), verdict: checkAddress(normalized) };
      }
      if (allowedHosts.has(normalized)) return { kind: 'name', name: normalized, verdict: ALLOW, trusted: true };
      return { kind: 'name', name: normalized, verdict: checkName(normalized), trusted: false };
    },
  };
}
