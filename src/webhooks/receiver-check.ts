import type { AddressPolicy, Verdict } from './address-policy.js';
import { systemResolve, type ResolveHost } from './host-resolver.js';

export interface ReceiverCheckOptions {
  policy: AddressPolicy;
  /** @defaultValue the system resolver */
  resolve?: ResolveHost;
  /** How long registration waits for the name's addresses before accepting it unresolved. @defaultValue 3000 */
  resolveTimeoutMs?: number;
}

/** Why a receiver URL was refused, for the caller who registered it. */
export type ReceiverVerdict = { allowed: true } | { allowed: false; reason: string; by: 'address' | 'name' | 'resolution' };

/** Checks a webhook URL when it is registered. The delivery checks again, on the address it connects to. */
export type ReceiverCheck = (url: string) => Promise<ReceiverVerdict>;

const refused = (verdict: Verdict, by: 'address' | 'name' | 'resolution'): ReceiverVerdict | null =>
  verdict.allowed ? null : { allowed: false, reason: verdict.reason, by };

/**
 * Refuses a URL whose host is a forbidden address or name, or a name any of whose addresses is
 * forbidden. A name that does not resolve now (or not within the timeout) is accepted: it may be
 * published later, and every delivery resolves and checks it again before connecting.
 */
export function createReceiverCheck(options: ReceiverCheckOptions): ReceiverCheck {
  const { policy, resolve = systemResolve, resolveTimeoutMs = 3000 } = options;
  if (!(resolveTimeoutMs > 0)) throw new Error('resolveTimeoutMs must be greater than 0');
  return async (url) => {
    const host = policy.checkHost(new URL(url).hostname);
    if (host.kind === 'address') return refused(host.verdict, 'address') ?? { allowed: true };
    if (!host.verdict.allowed || host.trusted) return refused(host.verdict, 'name') ?? { allowed: true };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(resolve, resolveTimeoutMs, null)));
    const addresses = await Promise.race([resolve(host.name).catch(() => null), timeout]).finally(() => clearTimeout(timer));
    for (const { address } of addresses ?? []) {
      const verdict = refused(policy.checkAddress(address), 'resolution');
      if (verdict) return verdict;
    }
    return { allowed: true };
  };
}
