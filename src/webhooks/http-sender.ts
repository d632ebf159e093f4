import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy.js';
import { systemResolve, type ResolveHost } from './host-resolver.js';

/**
 * Why an attempt got no answer, in fixed words for the delivery log. They never carry an address,
 * a port or a raw error message: the log must not tell a subscriber what answers inside our network.
 */
export const SEND_FAILURES = {
  notAllowed: "the receiver's address is not allowed (internal network)",
  invalidUrl: "the receiver's URL is not valid",
  dns: 'DNS lookup failed',
  refused: 'connection refused',
  closed: 'connection closed without an answer',
  unreachable: 'receiver unreachable',
  connectTimeout: 'connection timed out',
  tls: 'TLS handshake failed',
  certificate: "TLS certificate not valid for the receiver's host",
  badAnswer: 'invalid HTTP answer',
  other: 'request failed',
} as const;

/** The log's words for an attempt that got no answer in time. */
export const noAnswerWithin = (timeoutMs: number) => `no answer within ${timeoutMs} ms`;

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** An answer (any status: the caller decides what succeeds), or why there was none; `final`: retrying cannot help. */
export type SendResult = { kind: 'answered'; statusCode: number } | { kind: 'failed'; error: string; final: boolean };

export type WebhookSender = (request: WebhookRequest) => Promise<SendResult>;

export interface WebhookSenderOptions {
  policy: AddressPolicy;
  /** How long one attempt may take, from the DNS lookup to the answer's status line. @see Config.WEBHOOK_TIMEOUT_MS */
  timeoutMs: number;
  /** Resolves host names; every address it returns is checked, and only those are connected to. @defaultValue the system resolver */
  resolve?: ResolveHost;
}

class AddressNotAllowedError extends Error {}
class DnsLookupError extends Error {}
class AttemptTimeoutError extends Error {}

const CERTIFICATE_CODES =
  /^(CERT_|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|HOSTNAME_MISMATCH|INVALID_CA|PATH_LENGTH_EXCEEDED|INVALID_PURPOSE)/;

const failed = (error: string, final = false): SendResult => ({ kind: 'failed', error, final });

function describe(err: unknown, timeoutMs: number): SendResult {
  if (err instanceof AddressNotAllowedError) return failed(SEND_FAILURES.notAllowed, true);
  if (err instanceof AttemptTimeoutError) return failed(noAnswerWithin(timeoutMs));
  if (err instanceof DnsLookupError) return failed(SEND_FAILURES.dns);
  const e = err as { code?: unknown; errors?: Array<{ code?: unknown }> };
  // Several addresses tried in turn (happy eyeballs) fail together; the first says why.
  const code = String(e?.code ?? e?.errors?.[0]?.code ?? '');
  if (code === 'ECONNREFUSED') return failed(SEND_FAILURES.refused);
  if (code === 'ECONNRESET' || code === 'EPIPE') return failed(SEND_FAILURES.closed);
  if (['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EADDRNOTAVAIL'].includes(code)) return failed(SEND_FAILURES.unreachable);
  if (code === 'ETIMEDOUT') return failed(SEND_FAILURES.connectTimeout);
  if (CERTIFICATE_CODES.test(code)) return failed(SEND_FAILURES.certificate);
  if (code === 'EPROTO' || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return failed(SEND_FAILURES.tls);
  if (code.startsWith('HPE_')) return failed(SEND_FAILURES.badAnswer);
  return failed(SEND_FAILURES.other);
}

/**
 * Sends webhook requests with node:http(s), never to an address the policy refuses: a literal
 * address is checked before connecting, and a name is resolved by our own `lookup`, which checks
 * every address and hands exactly those to the socket, so that DNS cannot answer one thing to the
 * check and another to the connection (rebinding). Redirects are not followed. TLS verifies the
 * certificate against the URL's host name. The answer's body is not read.
 */
export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const { policy, timeoutMs, resolve = systemResolve } = options;
  if (!(timeoutMs > 0)) throw new Error('timeoutMs must be greater than 0');

  async function checkedAddresses(hostname: string, trusted: boolean) {
    const addresses = await resolve(hostname).catch((err: unknown) => {
      throw new DnsLookupError('lookup failed', { cause: err });
    });
    if (!addresses.length) throw new DnsLookupError('no address');
    if (!trusted && addresses.some((a) => !policy.checkAddress(a.address).allowed)) throw new AddressNotAllowedError('address not allowed');
    return addresses;
  }

  const lookupFor =
    (trusted: boolean): LookupFunction =>
    (hostname, lookupOptions, callback) => {
      checkedAddresses(hostname, trusted).then(
        (addresses) => {
          const family = typeof lookupOptions.family === 'number' && lookupOptions.family !== 0 ? lookupOptions.family : null;
          const usable = family ? addresses.filter((a) => a.family === family) : addresses;
          if (!usable.length) return callback(new DnsLookupError('no address of the family asked'), '', 0);
          if (lookupOptions.all) return callback(null, usable);
          callback(null, usable[0]!.address, usable[0]!.family);
        },
        (err: Error) => callback(err, '', 0),
      );
    };

  return (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return Promise.resolve(failed(SEND_FAILURES.invalidUrl, true));
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.resolve(failed(SEND_FAILURES.invalidUrl, true));
    const host = policy.checkHost(url.hostname);
    if (!host.verdict.allowed) return Promise.resolve(failed(SEND_FAILURES.notAllowed, true));
    const client = url.protocol === 'https:' ? https : http;

    return new Promise<SendResult>((done) => {
      let settled = false;
      const finish = (result: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(result);
      };
      const req = client.request(
        {
          method: 'POST',
          // A literal is connected to as judged; a name goes through the checking lookup (Node skips lookup for literals).
          hostname: host.kind === 'address' ? host.address : url.hostname,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
          // A fresh connection each time: every attempt resolves and checks again.
          agent: false,
          ...(host.kind === 'name' ? { lookup: lookupFor(host.trusted), servername: host.name } : {}),
        },
        (res) => {
          finish({ kind: 'answered', statusCode: res.statusCode ?? 0 });
          // The body is not kept: free the connection instead of reading what the receiver sends.
          res.destroy();
        },
      );
      const timer = setTimeout(() => req.destroy(new AttemptTimeoutError('timeout')), timeoutMs);
      req.on('error', (err) => finish(describe(err, timeoutMs)));
      req.end(request.body);
    });
  };
}
