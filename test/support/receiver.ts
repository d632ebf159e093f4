/**
 * A real HTTP server on a random port that receives webhook deliveries: it records every request
 * and answers each path with the statuses it is told (the last one repeats), 200 by default.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What an operator configures to let webhooks reach receivers on this machine: the tests'
 * receivers listen on 127.0.0.1, which the address policy refuses by default.
 */
export const ALLOW_LOOPBACK_RECEIVERS = { WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1' } as const;

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The status this request was answered with. */
  status: number;
}

export interface Receiver {
  /** Absolute URL of a path on this receiver. */
  url(path: string): string;
  received: Received[];
  /** Answers requests to `path` with these statuses in turn; the last one repeats. */
  answer(path: string, statuses: number[]): void;
  /** Waits until `count` requests to `path` have arrived; returns them. */
  waitFor(path: string, count: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const script = scripts.get(path) ?? [200];
      const status = script.length > 1 ? script.shift()! : script[0]!;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const of = (path: string) => received.filter((r) => r.path === path);
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answer: (path, statuses) => void scripts.set(path, [...statuses]),
    async waitFor(path, count, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (of(path).length < count) {
        if (Date.now() > deadline) throw new Error(`${path} received ${of(path).length} of ${count} requests`);
        await new Promise((r) => setTimeout(r, 50));
      }
      return of(path);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
