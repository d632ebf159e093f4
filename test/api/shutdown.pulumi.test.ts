import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe } from 'vitest';
import { localSpec, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import { processesIn } from '../support/processes.js';
import { stallingPulumiDir } from '../support/stalling-cli.js';
import { spawnService, type ServiceProcess } from '../support/service-process.js';
import { openStream } from '../support/sse-client.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `test` holds, checking every 50 ms; fails after `timeoutMs`. */
async function until(what: string, test: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await test())) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Whether a new TCP connection to the port is accepted right now. */
const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** performance.now() when the last byte arrived. */
  at: number;
}

/** One GET on its own connection; rejects if the connection is cut before the answer is complete. */
function get(url: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: token ? { authorization: `Bearer ${token}` } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => void (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, at: performance.now() }));
      res.on('close', () => res.complete || reject(new Error('the answer was cut')));
      res.on('error', () => undefined);
    });
    req.on('error', reject);
  });
}

/** A keep-alive connection that has had one answer and now sits idle; `closed` settles (with the time) when the server closes it. */
async function idleKeepAlive(port: number): Promise<{ closed: Promise<number> }> {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  socket.on('error', () => undefined);
  let received = '';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.setEncoding('utf8').on('data', (c: string) => {
      received += c;
      if (/\r\n\r\n\{"status":"ok"\}$/.test(received)) resolve();
    });
    socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
  });
  assert.match(received, /^HTTP\/1\.1 200 /);
  assert.match(received, /\r\nConnection: keep-alive\r\n/i);
  return { closed };
}

const it = harnessTest({ env: { DRIFT_SWEEP_CRON: 'off', WORKER_SHUTDOWN_GRACE_MS: '1000' } });

describe('shutting down on SIGTERM, in order', () => {
  let h: Harness;
  let shimDir: string;
  let longOp: string;
  const dataDirs: string[] = [];
  const services: ServiceProcess[] = [];
  const readCount = async () => (await h.api('GET', '/v1/clusters/quiet-one/kubeconfig/reads?limit=200')).body.items.length as number;

  /** Another API replica on the same records and state, whose kubeconfig reads take 8 s (the real CLI behind a wrapper that stalls first). */
  async function slowApi(env: Record<string, string>): Promise<{ api: ServiceProcess; readers: string }> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-shutdown-api-'));
    dataDirs.push(dataDir);
    const api = await spawnService({
      ...h.env,
      CLUSTERD_ROLE: 'api',
      CLUSTERD_DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      PULUMI_BACKEND_URL: `file://${path.join(h.dataDir, 'state')}`,
      PATH: `${shimDir}:${process.env.PATH}`,
      KUBECONFIG_READ_TIMEOUT_MS: '60000',
      KUBECONFIG_CACHE_MS: '0',
      ...env,
    });
    services.push(api);
    return { api, readers: path.join(dataDir, 'readers') };
  }

  it.beforeAll(async ({ harness }) => {
    h = harness;
    const quiet = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'quiet-one', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(quiet.status, 202, JSON.stringify(quiet.body));
    assert.equal((await h.waitFor(quiet.body.operation.id, undefined, 180_000)).status, 'succeeded');
    // An operation that runs for minutes: its event stream does not end on its own during the test.
    const long = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'long-one', blueprint: 'local-files', spec: localSpec({ delayMs: 300_000 }) },
    });
    assert.equal(long.status, 202, JSON.stringify(long.body));
    longOp = long.body.operation.id;
    await h.waitFor(longOp, ['running'], 120_000);
    shimDir = await stallingPulumiDir(8);
  });

  afterAll(async () => {
    for (const s of services) await s.stop(5000);
    for (const dir of dataDirs) {
      // A wrapper's `sleep`, orphaned when a forced exit left its read behind.
      for (const p of await processesIn(path.join(dir, 'readers'), 'sleep')) process.kill(p.pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
    if (longOp) await h?.api('POST', `/v1/operations/${longOp}/cancel`);
    if (shimDir) await rm(shimDir, { recursive: true, force: true });
  });

  it('turns readiness off at once, stops accepting, answers the read in flight in full, ends streams at the grace and exits 0', async () => {
    const delayMs = 3000;
    const graceMs = 15_000;
    const { api, readers } = await slowApi({ HTTP_SHUTDOWN_DELAY_MS: String(delayMs), HTTP_SHUTDOWN_GRACE_MS: String(graceMs) });
    const stream = await openStream(`${api.url}/v1/operations/${longOp}/events`, h.adminToken);
    assert.equal(stream.status, 200);
    await stream.waitFor((text) => /^event: /m.test(text), 30_000);
    const idle = await idleKeepAlive(api.port);
    const readsBefore = await readCount();
    const read = get(`${api.url}/v1/clusters/quiet-one/kubeconfig`, h.adminToken);
    await until('the kubeconfig read runs', async () => (await processesIn(readers, 'sleep')).length > 0, 30_000);

    const signalled = performance.now();
    api.child.kill('SIGTERM');
    // Readiness is off at once, while the listener still accepts during the delay. "At once" is as soon as
    // the process handles the signal: on a loaded machine a check sent right after kill() may be answered first.
    let ready = await get(`${api.url}/readyz`);
    while (ready.status === 200 && performance.now() - signalled < delayMs / 3) ready = await get(`${api.url}/readyz`);
    assert.equal(ready.status, 503);
    // (A check begun before the signal arrived may still report the dependencies it looked at.)
    assert.equal(JSON.parse(ready.body).status, 'draining');
    assert.equal(ready.headers.connection, 'close', 'answers during the shutdown close their connection');
    assert.equal((await get(`${api.url}/healthz`)).status, 200, 'the process is still alive');
    // Then the listener closes: no new connection is accepted.
    await until('new connections are refused', async () => !(await accepts(api.port)), delayMs + 10_000);
    const refusedAt = performance.now();
    assert.ok(
      refusedAt - signalled >= delayMs - 100,
      `refused ${Math.round(refusedAt - signalled)} ms after the signal, before the ${delayMs} ms delay`,
    );

    const answer = await read;
    assert.equal(answer.status, 200, answer.body);
    assert.equal(JSON.parse(JSON.parse(answer.body).kubeconfig).kind, 'Config', 'the full kubeconfig');
    assert.equal(answer.headers.connection, 'close');
    assert.equal(await readCount(), readsBefore + 1, 'the read handed out is the read recorded');
    const idleClosedAt = await idle.closed;
    assert.ok(
      idleClosedAt < answer.at,
      'the idle keep-alive connection was closed when the listener closed, not after the requests in flight',
    );

    await stream.ended;
    const streamEndedAt = performance.now();
    assert.match(stream.text(), /\nretry: 1000\nevent: shutdown\ndata: \{"reason":"[^"]+","resumeAfter":\d+\}\n\n$/);
    assert.doesNotMatch(stream.text(), /^event: end$/m, 'the operation did not end; the stream did');
    assert.ok(
      streamEndedAt - signalled >= delayMs + graceMs - 200,
      `the stream ended ${Math.round(streamEndedAt - signalled)} ms after the signal, before the grace`,
    );

    const exit = await api.exited;
    const exitedAt = performance.now();
    assert.deepEqual(exit, { code: 0, signal: null }, api.output().slice(-2000));
    // Generous: the records, Redis and the queues close in moments; this only proves nothing waits for another grace.
    assert.ok(exitedAt - signalled < delayMs + graceMs + 15_000, `exited ${Math.round(exitedAt - signalled)} ms after the signal`);
    const messages = api
      .output()
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return JSON.parse(l).msg as string;
        } catch {
          return l;
        }
      });
    const order = [
      'shutting down: readiness off, then HTTP, workers, queues, Redis and records in turn; a second signal exits at once',
      'HTTP closed',
      'stopped',
    ];
    assert.deepEqual(
      messages.filter((m) => order.includes(m)),
      order,
    );
    assert.ok(!messages.includes('requests still unfinished after HTTP_SHUTDOWN_GRACE_MS were cut'), 'the ended stream was not cut');
  });

  it('stops in order and exits 0 on a SIGTERM that comes while it is still starting, its API already serving', async () => {
    // A CLI whose `pulumi version` takes 5 s: the worker role, which asks it once, starts that much
    // after the API (in this process the API starts first).
    const slowVersion = await mkdtemp(path.join(tmpdir(), 'clusterd-slow-version-'));
    dataDirs.push(slowVersion);
    const real = path.join(process.env.CLUSTERD_PULUMI_DIR!, 'pulumi');
    await writeFile(path.join(slowVersion, 'pulumi'), `#!/bin/sh\nif [ "$1" = version ]; then sleep 5; fi\nexec ${real} "$@"\n`, {
      mode: 0o755,
    });
    const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-shutdown-starting-'));
    dataDirs.push(dataDir);
    await copyPgliteTemplate(path.join(dataDir, 'records'));
    const service = await spawnService({
      CLUSTERD_DATA_DIR: dataDir,
      REDIS_URL: h.env.REDIS_URL!,
      QUEUE_PREFIX: `test-starting-${path.basename(dataDir)}`,
      PULUMI_CONFIG_PASSPHRASE: 'starting-passphrase',
      LOG_LEVEL: 'info',
      PATH: `${slowVersion}:${process.env.PATH}`,
    });
    services.push(service);
    assert.doesNotMatch(service.output(), /"msg":"worker started"/, 'the workers were up already: nothing to test');
    service.child.kill('SIGTERM');
    assert.deepEqual(await service.exited, { code: 0, signal: null }, service.output().slice(-2000));
    assert.match(service.output(), /"msg":"stopped"/);
  });

  it('exits at once, non-zero and saying so, on a second signal', async () => {
    const { api, readers } = await slowApi({ HTTP_SHUTDOWN_GRACE_MS: '60000' });
    const read = get(`${api.url}/v1/clusters/quiet-one/kubeconfig`, h.adminToken);
    read.catch(() => undefined);
    await until('the kubeconfig read runs', async () => (await processesIn(readers, 'sleep')).length > 0, 30_000);
    api.child.kill('SIGTERM');
    // No delay configured: the listener closes at once.
    await until('new connections are refused', async () => !(await accepts(api.port)), 5000);
    const second = performance.now();
    api.child.kill('SIGTERM');
    const exit = await api.exited;
    assert.ok(performance.now() - second < 10_000, 'not held by the 60 s grace');
    assert.deepEqual(exit, { code: 143, signal: null });
    assert.match(api.output(), /"msg":"second signal: exiting at once without finishing the shutdown"/);
    await assert.rejects(read, 'the read in flight was cut, not answered');
  });
});
