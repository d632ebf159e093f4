/** A minimal Server-Sent Events client over node:http, one connection per stream, for tests that open many. */
import http from 'node:http';

export interface OpenStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Everything received so far. */
  text(): string;
  /** Resolves once the received text satisfies `test`; rejects after `timeoutMs`. */
  waitFor(test: (text: string) => boolean, timeoutMs: number): Promise<void>;
  /** Settles when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

export function openStream(url: string, token: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      url,
      { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers } },
      (res) => {
        let text = '';
        const waiters = new Set<() => void>();
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          for (const check of [...waiters]) check();
        });
        const ended = new Promise<void>((done) => res.on('close', () => done()));
        res.on('error', () => undefined);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: () => text,
          waitFor(test, timeoutMs) {
            return new Promise((ok, fail) => {
              const timer = setTimeout(() => {
                waiters.delete(check);
                fail(new Error(`stream did not receive what was expected within ${timeoutMs} ms; got: ${text.slice(-300)}`));
              }, timeoutMs);
              const check = () => {
                if (!test(text)) return;
                clearTimeout(timer);
                waiters.delete(check);
                ok();
              };
              waiters.add(check);
              check();
            });
          },
          ended,
          close: () => req.destroy(),
        });
      },
    );
    req.on('error', reject);
  });
}
