import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { localSpec, startHarness, type Harness } from '../support/harness.js';
import { freePort } from '../support/ports.js';

const PASSWORD = 'redis-pass-not-in-any-log';

/** A CA and a certificate for 127.0.0.1 signed by it, made with the openssl command. */
function certificates(dir: string): { ca: string; cert: string; key: string } {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=clusterd-test-ca',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '2',
    '-extfile',
    file('ext.cnf'),
  );
  return { ca: file('ca.crt'), cert: file('server.crt'), key: file('server.key') };
}

/** Redis as it is deployed for real: over TLS only, with a password; every connection of the service takes both from REDIS_URL. */
describe('Redis over TLS with a password', () => {
  let dir: string;
  let server: ChildProcess;
  let port: number;
  let ca: string;
  let h: Harness | undefined;
  const url = (password = PASSWORD) => `rediss://:${password}@127.0.0.1:${port}`;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'clusterd-redis-tls-'));
    const files = certificates(dir);
    ca = files.ca;
    port = await freePort();
    server = spawn(
      'redis-server',
      ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', files.cert, '--tls-key-file', files.key].concat(
        ['--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'no', '--requirepass', PASSWORD, '--save', '', '--dir', dir],
      ),
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const probe = new Redis(url(), { tls: { ca: readFileSync(ca, 'utf8') }, lazyConnect: true, retryStrategy: () => null });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      } finally {
        probe.disconnect();
      }
    }
  });
  afterAll(async () => {
    await h?.stop();
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('queues and runs through a rediss:// URL with its password and a private CA, and says neither in answers', async () => {
    h = await startHarness({ env: { REDIS_URL: url(), REDIS_TLS_CA_FILE: ca } });
    const ready = await h.api('GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'over-tls', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const client = new Redis(url(), { tls: { ca: readFileSync(ca, 'utf8') } });
    try {
      const keys = await client.keys(`${h.env.QUEUE_PREFIX}:*`);
      assert.ok(
        keys.some((k) => k.endsWith(`:${res.body.operation.id}`)),
        `the operation's job is in the TLS Redis: ${keys.join(', ')}`,
      );
    } finally {
      client.disconnect();
    }
    // The workers' connections (lanes, sweeps, webhooks) are the same Redis's: the provision runs.
    const op = await h.waitFor(res.body.operation.id, undefined, 120_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.ok(!JSON.stringify([ready.body, res.body, op]).includes(PASSWORD));
  });

  it('is not ready with a wrong password, and refuses a CA file for a Redis without TLS at start', async () => {
    await h?.stop();
    h = await startHarness({ workers: 'none', env: { REDIS_URL: url('wrong'), REDIS_TLS_CA_FILE: ca } });
    const ready = await h.api('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.ok(!JSON.stringify(ready.body).includes('wrong') && !JSON.stringify(ready.body).includes(PASSWORD));
    assert.throws(
      () => loadConfig({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_TLS_CA_FILE: ca }),
      /REDIS_TLS_CA_FILE: REDIS_TLS_CA_FILE applies to Redis over TLS/,
    );
  });

  it('takes a hash-tag prefix, as Redis Cluster needs, for every key it writes; refuses a malformed one', async () => {
    await h?.stop();
    const tag = `{clusterd-${Date.now()}}`;
    h = await startHarness({ workers: 'none', env: { REDIS_URL: url(), REDIS_TLS_CA_FILE: ca, QUEUE_PREFIX: tag } });
    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'tagged', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const client = new Redis(url(), { tls: { ca: readFileSync(ca, 'utf8') } });
    try {
      const keys = await client.keys('*');
      const ours = keys.filter((k) => k.includes(tag.slice(1, -1)));
      assert.ok(ours.length > 0 && ours.every((k) => k.startsWith(`${tag}:`)), ours.join(', '));
    } finally {
      client.disconnect();
    }
    for (const bad of ['{open', 'a{b}', '{}', 'two words'])
      assert.throws(() => loadConfig({ QUEUE_PREFIX: bad }), /QUEUE_PREFIX: must be letters/, bad);
  });
});
