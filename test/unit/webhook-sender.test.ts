import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSecureContext, createServer as createTlsServer } from 'node:tls';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createAddressPolicy } from '../../src/webhooks/address-policy.js';
import type { ResolveHost } from '../../src/webhooks/host-resolver.js';
import { createWebhookSender, noAnswerWithin, SEND_FAILURES, type SendResult } from '../../src/webhooks/http-sender.js';

/** Real servers on 127.0.0.1 that count every connection, whatever they do with it. */
interface Target {
  port: number;
  connections: number;
  requests: Array<{ url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

async function listen(server: Server, record: (t: Target) => void = () => undefined): Promise<Target> {
  const sockets = new Set<Socket>();
  const target: Target = {
    port: 0,
    connections: 0,
    requests: [],
    async close() {
      // close() must not wait for a socket the test left hanging.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    target.connections++;
    sockets.add(socket.on('close', () => sockets.delete(socket)));
  });
  record(target);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target.port = (server.address() as AddressInfo).port;
  return target;
}

const httpTarget = (status = 200, headers: Record<string, string> = {}) => {
  const server = createHttpServer();
  return listen(server, (t) =>
    server.on('request', (req, res) => {
      t.requests.push({ url: req.url ?? '', headers: req.headers });
      req.resume().on('end', () => res.writeHead(status, headers).end('body that is not kept'));
    }),
  );
};

/** The DNS edge, answering what the test says and counting the questions. */
function fakeDns(answers: Record<string, string[]>): ResolveHost & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (name: string) => {
    asked.push(name);
    const list = answers[name];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND', hostname: name });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { asked });
}

const request = (url: string) => ({ url, headers: { 'content-type': 'application/json', 'x-test': 'yes' }, body: '{"hello":"world"}' });
const refusedFinal: SendResult = { kind: 'failed', error: SEND_FAILURES.notAllowed, final: true };
const loopbackAllowed = createAddressPolicy({ allowedNetworks: ['127.0.0.1'] });

/** The log's words must name no address, no port and no raw error. */
function assertBlind(result: SendResult, port: number) {
  assert.equal(result.kind, 'failed');
  const { error } = result as { error: string };
  for (const leak of ['127.0.0.1', String(port), 'ECONN', 'ENOTFOUND', 'getaddrinfo', 'example.com', '::1'])
    assert.ok(!error.includes(leak), `"${error}" reveals ${leak}`);
}

describe('the webhook HTTP sender', () => {
  let target: Target;
  beforeAll(async () => {
    target = await httpTarget();
  });
  afterAll(() => target.close());

  describe('with the default policy', () => {
    const send = createWebhookSender({
      policy: createAddressPolicy(),
      timeoutMs: 5000,
      resolve: fakeDns({
        'rebind.example.com': ['127.0.0.1'],
        'mixed.example.com': ['93.184.215.14', '127.0.0.1'],
        'v6.example.com': ['::1'],
      }),
    });

    for (const host of [
      '127.0.0.1',
      '127.1',
      '2130706433',
      '0x7f000001',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '0.0.0.0',
      'localhost',
    ]) {
      it(`refuses http://${host}:port without connecting, for good`, async () => {
        const before = target.connections;
        const result = await send(request(`http://${host}:${target.port}/hook`));
        assert.deepEqual(result, refusedFinal);
        assertBlind(result, target.port);
        assert.equal(target.connections, before, 'the receiver saw a connection');
      });
    }

    it('refuses a name the resolver maps to loopback (DNS rebinding), and connects to nothing', async () => {
      const before = target.connections;
      for (const name of ['rebind.example.com', 'mixed.example.com', 'v6.example.com']) {
        assert.deepEqual(await send(request(`http://${name}:${target.port}/hook`)), refusedFinal, name);
      }
      assert.equal(target.connections, before);
    });
  });

  describe('to receivers the operator allowed', () => {
    it('connects to the address it checked, once resolved, with the name in Host and the body sent', async () => {
      const dns = fakeDns({ 'receiver.example.com': ['127.0.0.1'] });
      const send = createWebhookSender({ policy: loopbackAllowed, timeoutMs: 5000, resolve: dns });
      const result = await send(request(`http://receiver.example.com:${target.port}/hook?x=1`));
      assert.deepEqual(result, { kind: 'answered', statusCode: 200 });
      assert.deepEqual(dns.asked, ['receiver.example.com'], 'one lookup, the one whose answer was checked');
      const last = target.requests.at(-1)!;
      assert.equal(last.url, '/hook?x=1');
      assert.equal(last.headers.host, `receiver.example.com:${target.port}`);
      assert.equal(last.headers['x-test'], 'yes');
      assert.equal(last.headers['content-length'], '17');
    });

    it('does not follow a redirect: the 3xx is the answer', async () => {
      const redirecting = await httpTarget(302, { location: '/elsewhere' });
      try {
        const send = createWebhookSender({ policy: loopbackAllowed, timeoutMs: 5000 });
        assert.deepEqual(await send(request(`http://127.0.0.1:${redirecting.port}/hook`)), { kind: 'answered', statusCode: 302 });
        assert.deepEqual(
          redirecting.requests.map((r) => r.url),
          ['/hook'],
        );
      } finally {
        await redirecting.close();
      }
    });
  });

  describe('says what failed in fixed words', () => {
    const send = createWebhookSender({
      policy: loopbackAllowed,
      timeoutMs: 400,
      resolve: fakeDns({ 'receiver.example.com': ['127.0.0.1'], 'empty.example.com': [] }),
    });

    it('DNS lookup failed', async () => {
      for (const name of ['nowhere.example.com', 'empty.example.com']) {
        const result = await send(request(`http://${name}:${target.port}/`));
        assert.deepEqual(result, { kind: 'failed', error: SEND_FAILURES.dns, final: false });
        assertBlind(result, target.port);
      }
    });

    it('connection refused', async () => {
      const gone = await httpTarget();
      await gone.close();
      const result = await send(request(`http://127.0.0.1:${gone.port}/`));
      assert.deepEqual(result, { kind: 'failed', error: 'connection refused', final: false });
      assertBlind(result, gone.port);
    });

    it('no answer within the timeout, from a receiver that accepts and never answers', async () => {
      const silent = await listen(createTcpServer(() => undefined));
      try {
        const started = Date.now();
        const result = await send(request(`http://receiver.example.com:${silent.port}/`));
        assert.deepEqual(result, { kind: 'failed', error: noAnswerWithin(400), final: false });
        assert.equal(result.kind === 'failed' && result.error, 'no answer within 400 ms');
        assert.ok(Date.now() - started < 10_000);
      } finally {
        await silent.close();
      }
    });

    it('connection closed without an answer', async () => {
      const rude = await listen(createTcpServer((socket) => socket.once('data', () => socket.resetAndDestroy())));
      try {
        assert.deepEqual(await send(request(`http://127.0.0.1:${rude.port}/`)), {
          kind: 'failed',
          error: SEND_FAILURES.closed,
          final: false,
        });
      } finally {
        await rude.close();
      }
    });

    it('invalid HTTP answer', async () => {
      const garbled = await listen(createTcpServer((socket) => socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.6\r\n\r\n'))));
      try {
        assert.deepEqual(await send(request(`http://127.0.0.1:${garbled.port}/`)), {
          kind: 'failed',
          error: SEND_FAILURES.badAnswer,
          final: false,
        });
      } finally {
        await garbled.close();
      }
    });

    it("the receiver's URL is not valid", async () => {
      assert.deepEqual(await send(request('not a url')), { kind: 'failed', error: SEND_FAILURES.invalidUrl, final: true });
      assert.deepEqual(await send(request('ftp://receiver.example.com/')), {
        kind: 'failed',
        error: SEND_FAILURES.invalidUrl,
        final: true,
      });
    });
  });

  describe('over TLS', () => {
    let dir: string;
    let tls: Target;
    const sni: Array<string | undefined> = [];
    let openssl = true;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'clusterd-tls-'));
      try {
        execFileSync(
          'openssl',
          [
            'req',
            '-x509',
            '-newkey',
            'ec',
            '-pkeyopt',
            'ec_paramgen_curve:prime256v1',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=receiver.example.com',
            '-addext',
            'subjectAltName=DNS:receiver.example.com',
            '-keyout',
            path.join(dir, 'key.pem'),
            '-out',
            path.join(dir, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
      } catch {
        openssl = false;
        return;
      }
      const context = { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
      const server = createTlsServer({
        ...context,
        SNICallback: (name, cb) => {
          sni.push(name);
          cb(null, createSecureContext(context));
        },
      });
      server.on('tlsClientError', () => undefined);
      tls = await listen(server);
    });
    afterAll(async () => {
      await tls?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('verifies the certificate, naming the URL host to the server (SNI), and says so in fixed words', async () => {
      assert.ok(openssl, 'openssl makes the test certificate');
      const send = createWebhookSender({
        policy: loopbackAllowed,
        timeoutMs: 5000,
        resolve: fakeDns({ 'receiver.example.com': ['127.0.0.1'] }),
      });
      // Self-signed, so not trusted: the handshake must fail rather than send the signed body to it.
      const result = await send(request(`https://receiver.example.com:${tls.port}/hook`));
      assert.deepEqual(result, { kind: 'failed', error: SEND_FAILURES.certificate, final: false });
      assertBlind(result, tls.port);
      assert.deepEqual(sni, ['receiver.example.com']);
    });

    it('fails the handshake with a server that does not speak TLS', async () => {
      const send = createWebhookSender({ policy: loopbackAllowed, timeoutMs: 5000 });
      const result = await send(request(`https://127.0.0.1:${target.port}/hook`));
      assert.deepEqual(result, { kind: 'failed', error: SEND_FAILURES.tls, final: false });
      assertBlind(result, target.port);
    });
  });
});
