import { lookup } from 'node:dns/promises';

export interface ResolvedAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/** Every address of a host name. The seam where tests put a resolver that lies (DNS rebinding). */
export type ResolveHost = (name: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address in the order it gives them. */
export const systemResolve: ResolveHost = (name) => lookup(name, { all: true, verbatim: true });
