/**
 * A TCP proxy in front of PostgreSQL that counts the statements clients send: one per simple
 * query ('Q') and one per extended-protocol round ('S', Sync, which node-postgres sends once per
 * parameterized query). It proves how often a service queries the records, without touching the
 * service or the server's configuration.
 */
import net from 'node:net';

export interface CountingProxy {
  /** `url` with its host and port replaced by the proxy's. */
  wrap(url: string): string;
  /** Statements sent through the proxy so far. */
  statements(): number;
  close(): Promise<void>;
}

const PROTOCOL_3 = 196_608;

export async function startCountingProxy(serverUrl: string): Promise<CountingProxy> {
  const target = new URL(serverUrl);
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    let pending = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (!started) {
          // Untyped messages first: SSLRequest or GSSENCRequest (then another), then StartupMessage.
          if (pending.length < 8 || pending.length < pending.readInt32BE(0)) break;
          started = pending.readInt32BE(4) === PROTOCOL_3;
          pending = pending.subarray(pending.readInt32BE(0));
          continue;
        }
        if (pending.length < 5 || pending.length < 1 + pending.readInt32BE(1)) break;
        const type = String.fromCharCode(pending[0]!);
        if (type === 'Q' || type === 'S') count++;
        pending = pending.subarray(1 + pending.readInt32BE(1));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    wrap(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    statements: () => count,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
