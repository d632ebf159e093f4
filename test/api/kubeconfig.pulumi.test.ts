import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe } from 'vitest';
import { localSpec, ROOT, SERVICE_MAIN, type Harness } from '../support/harness.js';
import { harnessTest } from '../support/harness-fixture.js';
import { freePort } from '../support/ports.js';
import { processesIn, watchProcesses } from '../support/processes.js';
import { stallingPulumiDir } from '../support/stalling-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const CLUSTERS = ['kube-one', 'kube-two', 'kube-three', 'kube-four'];

const it = harnessTest({ env: { DRIFT_SWEEP_CRON: 'off', KUBECONFIG_MAX_CONCURRENT_READS: '2', KUBECONFIG_CACHE_MS: '5000' } });

describe('GET /v1/clusters/{name}/kubeconfig', () => {
  let h: Harness;
  let alpha: string;
  let beta: string;
  const readCount = async (name: string) =>
    (await h.api('GET', `/v1/clusters/${name}/kubeconfig/reads?limit=200`, { token: alpha })).body.items.length as number;
  /** Lists team beta's clusters until stopped; the time of each list. */
  const keepListing = (base: () => string) => {
    const times: number[] = [];
    let going = true;
    const loop = (async () => {
      while (going) {
        const t0 = performance.now();
        const res = await fetch(`${base()}/v1/clusters`, { headers: { authorization: `Bearer ${beta}` } });
        assert.equal(res.status, 200);
        await res.arrayBuffer();
        times.push(performance.now() - t0);
        await sleep(20);
      }
    })();
    return async () => {
      going = false;
      await loop;
      return { max: Math.max(...times), p50: [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)]!, count: times.length };
    };
  };

  it.beforeAll(async ({ harness }) => {
    h = harness;
    alpha = await h.teamToken('alpha');
    beta = await h.teamToken('beta');
    const ops = await Promise.all(
      CLUSTERS.map(
        async (name) =>
          (await h.api('POST', '/v1/clusters', { token: alpha, body: { name, blueprint: 'local-files', spec: localSpec() } })).body
            .operation.id,
      ),
    );
    for (const id of ops) assert.equal((await h.waitFor(id, undefined, 300_000)).status, 'succeeded');
  });

  it('hands the decrypted kubeconfig to a caller who may see the cluster, uncached, and records the read', async () => {
    assert.equal((await h.api('GET', '/v1/clusters/kube-one', { token: alpha })).body.outputs.kubeconfig, '[secret]');
    const res = await h.api('GET', '/v1/clusters/kube-one/kubeconfig', { token: alpha });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const kubeconfig = JSON.parse(res.body.kubeconfig);
    assert.equal(kubeconfig.kind, 'Config');
    assert.match(kubeconfig.users[0].user.token, /^[0-9a-f]{32}$/);
    const reads = (await h.api('GET', '/v1/clusters/kube-one/kubeconfig/reads', { token: alpha })).body.items;
    assert.equal(reads.length, 1);
    assert.match(reads[0].readBy, /team alpha/);
  });

  it('answers 404 to another team, and records nothing', async () => {
    assert.equal((await h.api('GET', '/v1/clusters/kube-one/kubeconfig', { token: beta })).status, 404);
    assert.equal((await h.api('GET', '/v1/clusters/kube-one/kubeconfig/reads')).body.items.length, 1);
  });

  it('answers 404 for a cluster whose provision failed (no kubeconfig yet)', async () => {
    const res = await h.api('POST', '/v1/clusters', {
      token: alpha,
      body: { name: 'kube-fails', blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) },
    });
    assert.equal((await h.waitFor(res.body.operation.id)).status, 'failed');
    const answer = await h.api('GET', '/v1/clusters/kube-fails/kubeconfig', { token: alpha });
    assert.equal(answer.status, 404);
    assert.match(answer.body.detail, /no kubeconfig yet/);
  });

  it("runs at most KUBECONFIG_MAX_CONCURRENT_READS CLI reads for 30 concurrent requests, records every read, and keeps another team's list fast", async () => {
    await sleep(5200); // values read by earlier tests have expired
    const before = await Promise.all(CLUSTERS.map(readCount));
    const watch = watchProcesses(path.join(h.dataDir, 'readers'), 'stack output');
    const listing = keepListing(() => h.url);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => h.api('GET', `/v1/clusters/${CLUSTERS[i % 4]}/kubeconfig`, { token: alpha })),
    );
    const elapsed = performance.now() - t0;
    const lists = await listing();
    const cli = await watch.stop();
    console.log(
      `[kubeconfig] 30 concurrent reads of 4 clusters in ${elapsed.toFixed(0)} ms: ${cli.started} CLI processes, at most ${cli.peak} at once; team beta's list p50 ${lists.p50.toFixed(1)} ms, max ${lists.max.toFixed(1)} ms over ${lists.count} lists`,
    );
    for (const a of answers) {
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(JSON.parse(a.body.kubeconfig).kind, 'Config');
    }
    assert.ok(cli.peak <= 2, `${cli.peak} CLI reads at once`);
    assert.ok(cli.started >= 1 && cli.started <= 4, `${cli.started} CLI reads for 4 clusters`);
    const after = await Promise.all(CLUSTERS.map(readCount));
    assert.deepEqual(
      after.map((n, i) => n - before[i]!),
      [8, 8, 7, 7],
      'every read is recorded',
    );
    assert.ok(lists.max < 5000);
  });

  it('shares one CLI read between concurrent requests for one cluster, then serves it from memory for a few seconds', async () => {
    await sleep(5200);
    const before = await readCount('kube-two');
    const watch = watchProcesses(path.join(h.dataDir, 'readers'), 'stack output');
    const answers = await Promise.all(Array.from({ length: 30 }, () => h.api('GET', '/v1/clusters/kube-two/kubeconfig', { token: alpha })));
    const later = await h.api('GET', '/v1/clusters/kube-two/kubeconfig', { token: alpha });
    const cli = await watch.stop();
    assert.deepEqual([...new Set([...answers, later].map((a) => a.status))], [200]);
    assert.equal(new Set([...answers, later].map((a) => a.body.kubeconfig)).size, 1);
    assert.equal(cli.started, 1, 'one CLI read for 31 requests');
    assert.equal((await readCount('kube-two')) - before, 31);
  });

  describe('a read slower than KUBECONFIG_READ_TIMEOUT_MS', () => {
    let slowApi: ChildProcess;
    let slowUrl: string;
    let shimDir: string;
    let slowData: string;
    const slowReaders = () => path.join(slowData, 'readers');

    beforeAll(async () => {
      // The real CLI behind a wrapper that first stalls `stack output`: a state backend that hangs.
      shimDir = await stallingPulumiDir(60);
      slowData = await mkdtemp(path.join(tmpdir(), 'clusterd-slow-api-'));
      const port = await freePort();
      slowUrl = `http://127.0.0.1:${port}`;
      // Another replica of the API, on the same records and state, with the slow CLI first on its PATH.
      slowApi = spawn(process.execPath, SERVICE_MAIN, {
        cwd: ROOT,
        stdio: ['ignore', 'inherit', 'inherit'],
        env: {
          ...process.env,
          ...h.env,
          CLUSTERD_ROLE: 'api',
          PORT: String(port),
          CLUSTERD_DATA_DIR: slowData,
          PULUMI_BACKEND_URL: `file://${path.join(h.dataDir, 'state')}`,
          PATH: `${shimDir}:${process.env.PATH}`,
          KUBECONFIG_READ_TIMEOUT_MS: '1500',
        },
      });
      const deadline = Date.now() + 120_000;
      while (
        !(await fetch(`${slowUrl}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        assert.ok(Date.now() < deadline, 'the second API did not start');
        assert.equal(slowApi.exitCode, null, 'the second API exited');
        await sleep(250);
      }
    });
    afterAll(async () => {
      if (slowApi && slowApi.exitCode === null) {
        const exited = new Promise((r) => slowApi.once('exit', r));
        slowApi.kill('SIGTERM');
        await exited;
      }
      // The stalled wrappers' `sleep`, orphaned when their shell was killed.
      for (const p of await processesIn(slowReaders(), 'sleep')) process.kill(p.pid, 'SIGKILL');
      await rm(shimDir, { recursive: true, force: true });
      await rm(slowData, { recursive: true, force: true });
    });

    it("answers 503 with Retry-After, kills the CLI, records nothing, and another team's list stays fast", async () => {
      const before = await readCount('kube-three');
      const listing = keepListing(() => slowUrl);
      const t0 = performance.now();
      const answers = await Promise.all(
        Array.from({ length: 3 }, () =>
          fetch(`${slowUrl}/v1/clusters/kube-three/kubeconfig`, { headers: { authorization: `Bearer ${alpha}` } }),
        ),
      );
      const elapsed = performance.now() - t0;
      const lists = await listing();
      console.log(
        `[kubeconfig] a stalled read answered in ${elapsed.toFixed(0)} ms; team beta's list meanwhile p50 ${lists.p50.toFixed(1)} ms, max ${lists.max.toFixed(1)} ms`,
      );
      for (const res of answers) {
        assert.equal(res.status, 503);
        assert.match(res.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
        const body = await res.json();
        assert.equal(body.type, 'urn:clusterd:problem:unavailable');
        assert.match(body.detail, /took longer than 1500 ms/);
        assert.ok(!JSON.stringify(body).includes('apiVersion'), 'no kubeconfig in the problem');
      }
      assert.ok(elapsed < 15_000, `answered after ${elapsed} ms`);
      await sleep(300);
      assert.deepEqual(await processesIn(slowReaders(), 'stack output'), [], 'the stalled CLI was killed');
      assert.equal(await readCount('kube-three'), before, 'nothing handed out, nothing recorded');
      assert.ok(lists.max < 5000);
    });
  });
});
