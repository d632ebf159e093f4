import assert from 'node:assert/strict';
import { afterAll, describe, it } from 'vitest';
import { localSpec, startHarness, type Harness } from '../support/harness.js';
import { freePort } from '../support/ports.js';
import { until as waitUntil } from '../support/until.js';
import { ALLOW_LOOPBACK_RECEIVERS, startReceiver, type Receiver } from '../support/receiver.js';

type Samples = Map<string, number>;

/** The samples of an exposition, keyed `name{a="x",b="y"}` with labels sorted; HELP and TYPE lines checked apart. */
function samples(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    out.set(`${m[1]}{${labels.join(',')}}`, Number(m[3]));
  }
  return out;
}

const key = (name: string, labels: Record<string, string> = {}) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',')}}`;

async function scrape(url: string): Promise<{ text: string; samples: Samples; contentType: string | null }> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, samples: samples(text), contentType: res.headers.get('content-type') };
}

const until = <T>(what: string, probe: () => Promise<T | undefined>) => waitUntil(what, probe, 30_000, 200);

describe('GET /metrics after a lifecycle', () => {
  let h: Harness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('counts operations by kind, blueprint and outcome, requests by route, deliveries, and shows the fleet, naming no team or cluster', async () => {
    receiver = await startReceiver();
    h = await startHarness({ env: { ...ALLOW_LOOPBACK_RECEIVERS } });
    const hook = await h.api('POST', '/v1/webhooks', {
      body: { team: 'metrics-team', url: receiver.url('/events'), events: ['operation.succeeded'] },
    });
    assert.equal(hook.status, 201, JSON.stringify(hook.body));
    const run = async (method: string, path: string, body?: unknown) => {
      const res = await h!.api(method, path, body === undefined ? {} : { body });
      assert.equal(res.status, 202, JSON.stringify(res.body));
      return h!.waitFor(res.body.operation.id);
    };
    const spec = localSpec();
    assert.equal(
      (await run('POST', '/v1/clusters', { team: 'metrics-team', name: 'metered', blueprint: 'local-files', spec })).status,
      'succeeded',
    );
    assert.equal((await run('PATCH', '/v1/clusters/metered', { spec: { nodePools: [{ name: 'default', size: 3 }] } })).status, 'succeeded');
    assert.equal((await run('POST', '/v1/clusters/metered/drift-check')).status, 'succeeded');
    assert.equal((await run('DELETE', '/v1/clusters/metered')).status, 'succeeded');
    const broken = { team: 'metrics-team', name: 'metered-broken', blueprint: 'local-files', spec: localSpec({ failOn: 'create' }) };
    assert.equal((await run('POST', '/v1/clusters', broken)).status, 'failed');

    const finished = (kind: string, outcome: string) =>
      key('clusterd_operations_finished_total', { kind, blueprint: 'local-files', outcome });
    // Counted by the outbox entry's follow-up, moments after the operation's end.
    const {
      text,
      samples: s,
      contentType,
    } = await until('every finished operation counted', async () => {
      const got = await scrape(h!.url);
      return got.samples.get(finished('provision', 'failed')) === 1 &&
        got.samples.get(finished('destroy', 'succeeded')) === 1 &&
        (got.samples.get(key('clusterd_webhook_deliveries_total', { outcome: 'delivered' })) ?? 0) >= 4
        ? got
        : undefined;
    });
    assert.match(contentType ?? '', /^text\/plain;.*version=0\.0\.4/);
    assert.equal(s.get(finished('provision', 'succeeded')), 1);
    assert.equal(s.get(finished('update', 'succeeded')), 1);
    assert.equal(s.get(finished('drift-check', 'succeeded')), 1);
    assert.equal(s.get(key('clusterd_operation_duration_seconds_count', { kind: 'provision', outcome: 'succeeded' })), 1);
    assert.ok(s.get(key('clusterd_operation_duration_seconds_sum', { kind: 'provision', outcome: 'succeeded' }))! > 0);
    assert.equal(s.get(key('clusterd_operation_wait_seconds_count', { kind: 'update' })), 1);
    assert.equal(s.get(key('clusterd_http_requests_total', { method: 'POST', route: '/v1/clusters', status: '202' })), 2);
    assert.equal(s.get(key('clusterd_http_requests_total', { method: 'PATCH', route: '/v1/clusters/:name', status: '202' })), 1);
    assert.ok(s.get(key('clusterd_http_requests_total', { method: 'GET', route: '/v1/operations/:id', status: '200' }))! >= 5);
    assert.ok(s.get(key('clusterd_http_request_duration_seconds_count', { method: 'POST', route: '/v1/clusters', status: '202' })) === 2);
    // The records: nothing running now; the failed cluster is live and was never checked for drift.
    assert.equal(s.get(key('clusterd_lanes_held')), 0);
    assert.equal(s.get(key('clusterd_fleet_clusters', { blueprint: 'local-files', drift: 'never-checked' })), 1);
    assert.equal(
      s.get(key('clusterd_fleet_clusters', { blueprint: 'local-files', drift: 'clean' })),
      undefined,
      'the destroyed one is gone',
    );
    // BullMQ's own export, merged: one HELP per family though three queues report.
    assert.ok(s.has(key('bullmq_job_count', { queue: 'operations', state: 'completed' })), text.slice(-3000));
    assert.equal(text.match(/^# HELP bullmq_job_count /gm)?.length, 1);
    assert.ok(s.get(key('process_resident_memory_bytes'))! > 0);
    assert.ok(s.has(key('nodejs_eventloop_lag_p99_seconds')));
    assert.doesNotMatch(text, /metrics-team|metered/, 'no team or cluster name in a scrape anyone can read');

    // A 404 counts under no path of its own: paths are unbounded, patterns are not.
    await h.api('GET', '/v1/no-such-thing/x1');
    await h.api('GET', '/v1/no-such-thing/x2');
    const after = (await scrape(h.url)).samples;
    assert.ok(after.get(key('clusterd_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' }))! >= 2);
    assert.doesNotMatch([...after.keys()].join('\n'), /no-such-thing/);
  });
});

describe('the METRICS_PORT listener', () => {
  let h: Harness | undefined;
  afterAll(() => h?.stop());

  it("serves a worker process's metrics and probes, and takes /metrics off the API's port", async () => {
    h = await startHarness({ workers: 'none', env: { METRICS_PORT: '0' } });
    assert.equal((await fetch(`${h.url}/metrics`)).status, 404, 'not on the public port when METRICS_PORT is set');
    const port = await freePort();
    const worker = await h.spawnWorker({ METRICS_PORT: String(port), HOST: '127.0.0.1' });
    const url = `http://127.0.0.1:${port}`;
    await until('the worker listening', async () => ((await fetch(`${url}/healthz`).catch(() => null))?.status === 200 ? true : undefined));
    const ready = await fetch(`${url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(Object.keys((await ready.json()).checks).sort(), ['recordStore', 'redis']);
    assert.equal((await fetch(`${url}/v1/clusters`)).status, 404, 'nothing of the API there');

    const res = await h.api('POST', '/v1/clusters', {
      body: { team: 'alpha', name: 'worker-metered', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal((await h.waitFor(res.body.operation.id)).status, 'succeeded');
    const counted = key('clusterd_operations_finished_total', { kind: 'provision', blueprint: 'local-files', outcome: 'succeeded' });
    await until('the worker to count the provision it ran', async () =>
      (await scrape(url)).samples.get(counted) === 1 ? true : undefined,
    );

    worker.kill('SIGTERM');
    const code = await new Promise((r) => (worker.exitCode !== null ? r(worker.exitCode) : worker.once('exit', r)));
    assert.equal(code, 0);
    assert.equal(
      await fetch(`${url}/healthz`).then(
        () => 'answered',
        () => 'closed',
      ),
      'closed',
    );
  });
});
