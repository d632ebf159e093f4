import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startTracing, type Tracing } from '../../src/tracing/tracing.js';
import { localSpec, redisUrl, startHarness, TEST_BLUEPRINT, type ApiResponse, type Harness } from '../support/harness.js';
import { OpenApiContract } from '../support/openapi-contract.js';
import { copyPgliteTemplate } from '../support/pglite-template.js';
import { spawnService } from '../support/service-process.js';

/** A W3C traceparent a client sends: a fresh trace, and the client's own span in it. */
function clientTrace() {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

/** A span of the Pulumi CLI as its `file://` exporter writes it (OTLP JSON). */
interface CliSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
}

/** Every span of the CLI files in `dir` whose names start with the trace id; one file per CLI process. */
async function cliSpans(
  dir: string,
  traceId: string,
): Promise<{ files: string[]; spans: Array<CliSpan & { file: string; service: string }> }> {
  const files = (await readdir(dir)).filter((f) => f.startsWith(traceId)).sort();
  const spans: Array<CliSpan & { file: string; service: string }> = [];
  for (const file of files) {
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n').filter(Boolean)) {
      const batch = JSON.parse(line) as {
        resourceSpans: Array<{
          resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
          scopeSpans: Array<{ spans: CliSpan[] }>;
        }>;
      };
      for (const rs of batch.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, file, service });
      }
    }
  }
  return { files, spans };
}

const uniqueName = (stem: string) => `${stem}-${randomUUID().slice(0, 8)}`;
const SECRET = 'hunter2-trace-secret';

describe('traces with tracing on: one trace from the request to the Pulumi CLI', () => {
  let h: Harness;
  let tracing: Tracing;
  let cliDir: string;
  let contract: OpenApiContract;
  const exporter = new InMemorySpanExporter();
  /** The answer, held to the service's own OpenAPI description (its trace ids included). */
  const described = (method: string, url: string, res: ApiResponse): ApiResponse => {
    contract.check(method, url, { status: res.status, headers: res.headers, text: JSON.stringify(res.body) });
    return res;
  };

  beforeAll(async () => {
    cliDir = await mkdtemp(path.join(tmpdir(), 'clusterd-cli-traces-'));
    // What src/main.ts does with the OTEL_* variables, with an in-memory exporter for this process's
    // spans (the job child's come back to it) and the CLI's own file exporter for the CLI's.
    tracing = await startTracing({ serviceName: 'clusterd', cliTraces: pathToFileURL(cliDir).href }, { exporter });
    h = await startHarness();
    contract = new OpenApiContract(await (await fetch(`${h.url}/openapi.json`)).json());
  });

  afterAll(async () => {
    await h?.stop();
    await tracing?.shutdown();
    await rm(cliDir, { recursive: true, force: true });
  });

  /**
   * This process's finished spans of one trace, by name, once every one of `names` has ended (the
   * worker's span of an operation ends just after its outcome is committed, which the API shows).
   */
  async function spansOf(traceId: string, names: string[]): Promise<(name: string) => ReadableSpan> {
    const deadline = Date.now() + 10_000;
    let spans: ReadableSpan[] = [];
    for (;;) {
      await tracing.flush();
      spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      if (names.every((n) => spans.some((s) => s.name === n)) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return (name) => {
      const found = spans.filter((s) => s.name === name);
      assert.equal(found.length, 1, `${name}: ${found.length} spans among ${spans.map((s) => s.name).join(', ')}`);
      return found[0]!;
    };
  }
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan) => span.spanContext().spanId;

  it('follows a provision from the HTTP request through the record, the queue, the job and its child to the CLI', async () => {
    const client = clientTrace();
    const name = uniqueName('traced');
    const res = await h.api('POST', '/v1/clusters', {
      headers: { traceparent: client.traceparent },
      body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec({ secretValue: SECRET }) },
    });
    assert.equal(described('POST', '/v1/clusters', res).status, 202, JSON.stringify(res.body));
    assert.equal(res.body.operation.traceId, client.traceId);
    const op = await h.waitFor(res.body.operation.id, undefined, 180_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(described('GET', `/v1/operations/${op.id}`, await h.api('GET', `/v1/operations/${op.id}`)).body.traceId, client.traceId);

    const span = await spansOf(client.traceId, [
      'HTTP POST /v1/clusters',
      'record operation',
      'queue wake',
      'operation provision',
      'child process',
      'engine provision',
    ]);
    const request = span('HTTP POST /v1/clusters');
    assert.equal(parentOf(request), client.spanId);
    assert.equal(request.attributes['http.route'], '/v1/clusters');
    assert.equal(request.attributes['http.response.status_code'], 202);
    const record = span('record operation');
    assert.equal(parentOf(record), idOf(request));
    const queued = span('queue wake');
    assert.equal(parentOf(queued), idOf(request));
    const operation = span('operation provision');
    assert.equal(parentOf(operation), idOf(record), 'the worker continues the trace the record carries');
    const child = span('child process');
    assert.equal(parentOf(child), idOf(operation));
    const engine = span('engine provision');
    assert.equal(parentOf(engine), idOf(child), "the child's span came back to the worker under its span");
    const expected = {
      'clusterd.operation.id': op.id,
      'clusterd.operation.kind': 'provision',
      'clusterd.cluster.name': name,
      'clusterd.blueprint': 'local-files',
    };
    for (const s of [record, operation, child, engine]) assert.deepEqual(pick(s.attributes, Object.keys(expected)), expected, s.name);
    assert.equal(engine.attributes['clusterd.operation.status'], 'succeeded');

    // The CLI's spans: each of its processes (stack init, up) wrote its own file, in the same trace,
    // its root span `pulumi` a child of the engine's span and every other span under a span of its own.
    const cli = await cliSpans(cliDir, client.traceId);
    assert.equal(cli.files.length >= 2, true, `CLI trace files: ${cli.files.join(', ')}`);
    assert.ok(cli.spans.every((s) => s.service === 'pulumi-cli'));
    // The CLI's gRPC server records every call into it; a call that carries no trace context starts a
    // trace of its own: the language runtime's log messages and SetRootResource, which it sends
    // outside the program's async context, and the provider plugins' logs. Nothing else stays apart.
    const apart = cli.spans.filter((s) => s.traceId !== client.traceId);
    assert.deepEqual([...new Set(apart.filter((s) => !s.name.startsWith('pulumirpc.Engine/')).map((s) => s.name))], []);
    assert.ok(apart.every((s) => !s.parentSpanId));
    const joined = cli.spans.filter((s) => s.traceId === client.traceId);
    const roots = joined.filter((s) => s.name === 'pulumi');
    assert.equal(roots.length, cli.files.length, 'one root span per CLI process');
    for (const root of roots) assert.equal(root.parentSpanId, idOf(engine));
    const cliIds = new Set(joined.map((s) => s.spanId));
    const below = joined.filter((s) => s.name !== 'pulumi');
    assert.ok(below.length > 20, `the CLI traced its work under its root spans: ${below.length} spans`);
    for (const s of below) assert.ok(s.parentSpanId && cliIds.has(s.parentSpanId), `${s.name} hangs under a CLI span`);
    for (const name of ['pulumi-plan', 'pulumirpc.ResourceMonitor/RegisterResource', 'pulumirpc.ResourceProvider/Create'])
      assert.ok(
        below.some((s) => s.name === name),
        `${name} in the trace`,
      );
    const commands = roots.map((r) => r.attributes?.find((a) => a.key === 'cli.command')?.value.stringValue);
    assert.ok(commands.includes('pulumi up'), `CLI commands: ${commands.join(', ')}`);

    // Nothing secret in any span: the spec's secret, the passphrase, the admin token.
    const everything =
      JSON.stringify(exporter.getFinishedSpans().map((s) => ({ name: s.name, attributes: s.attributes, events: s.events }))) +
      JSON.stringify(cli.spans);
    for (const secret of [SECRET, 'test-passphrase-not-secret', h.adminToken])
      assert.ok(!everything.includes(secret), 'a secret reached a span');
  });

  it('gives an operation asked without a traceparent a trace of its own, from the request to the CLI', async () => {
    const name = uniqueName('refreshed');
    const created = await h.api('POST', '/v1/clusters', { body: { team: 'alpha', name, blueprint: 'local-files', spec: localSpec() } });
    assert.equal((await h.waitFor(created.body.operation.id, undefined, 180_000)).status, 'succeeded');
    const res = described('POST', `/v1/clusters/${name}/refresh`, await h.api('POST', `/v1/clusters/${name}/refresh`));
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const traceId = res.body.operation.traceId as string;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(traceId, created.body.operation.traceId);
    const op = await h.waitFor(res.body.operation.id, undefined, 180_000);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));

    const span = await spansOf(traceId, ['HTTP POST /v1/clusters/:name/refresh', 'operation refresh', 'engine refresh']);
    assert.equal(parentOf(span('HTTP POST /v1/clusters/:name/refresh')), undefined, 'a new trace');
    const engine = span('engine refresh');
    const cli = await cliSpans(cliDir, traceId);
    const roots = cli.spans.filter((s) => s.name === 'pulumi' && s.traceId === traceId);
    assert.equal(roots.length, cli.files.length);
    assert.ok(roots.every((r) => r.parentSpanId === idOf(engine)));
    // The refresh's events carry the stack's outputs: one CLI process.
    assert.deepEqual(
      roots.map((r) => r.attributes?.find((a) => a.key === 'cli.command')?.value.stringValue),
      ['pulumi refresh'],
    );
  });

  it("names the request's trace in a problem document, the client's or its own", async () => {
    const client = clientTrace();
    const bad = await h.api('POST', '/v1/clusters', {
      headers: { traceparent: client.traceparent },
      body: { team: 'alpha', name: 'Not A Name', blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(described('POST', '/v1/clusters', bad).status, 400);
    assert.equal(bad.headers.get('content-type'), 'application/problem+json; charset=utf-8');
    assert.equal(bad.body.traceId, client.traceId);
    const span = await spansOf(client.traceId, ['HTTP POST /v1/clusters']);
    assert.equal(span('HTTP POST /v1/clusters').attributes['http.response.status_code'], 400);

    const unknown = `/v1/operations/${randomUUID()}`;
    const missing = described('GET', unknown, await h.api('GET', unknown));
    assert.equal(missing.status, 404);
    assert.match(missing.body.traceId, /^[0-9a-f]{32}$/);
    assert.equal(
      parentOf((await spansOf(missing.body.traceId, ['HTTP GET /v1/operations/:id']))('HTTP GET /v1/operations/:id')),
      undefined,
      'a new trace',
    );
  });
});

/** The service as its own process (PGlite, one process), the way it is deployed, on a fresh data directory. */
async function spawnedService(env: Record<string, string>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'clusterd-trace-svc-'));
  await copyPgliteTemplate(path.join(dataDir, 'records'));
  const prefix = `test-${randomUUID()}`;
  const service = await spawnService({
    CLUSTERD_DATA_DIR: dataDir,
    REDIS_URL: redisUrl(),
    QUEUE_PREFIX: prefix,
    CLUSTERD_BLUEPRINT_MODULES: TEST_BLUEPRINT,
    PULUMI_CONFIG_PASSPHRASE: 'test-passphrase-not-secret',
    LOG_LEVEL: 'info',
    WORKER_COMPILE_CACHE: path.join(tmpdir(), 'clusterd-test-compile-cache'),
    CLUSTERD_ENGINE_ENV: 'GOGC',
    DRIFT_SWEEP_CRON: 'off',
    ...env,
  });
  const token = (await readFile(path.join(dataDir, 'admin-token'), 'utf8')).trim();
  const api = async (method: string, p: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse> => {
    const res = await fetch(service.url + p, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...opts.headers },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
  const waitFor = async (id: string) => {
    const deadline = Date.now() + 180_000;
    for (;;) {
      const op = (await api('GET', `/v1/operations/${id}`)).body;
      if (['succeeded', 'failed', 'cancelled'].includes(op.status)) return op;
      if (Date.now() > deadline) throw new Error(`operation ${id} did not end: ${JSON.stringify(op)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    service,
    api,
    waitFor,
    async stop() {
      await service.stop();
      const redis = new Redis(redisUrl());
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An OTLP/HTTP collector on a random port: keeps every request's headers and raw body (protobuf). */
async function startCollector() {
  const received: Array<{ path: string; headers: IncomingHttpHeaders; body: Buffer }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

describe('traces from the deployed service: the standard variables switch them on and off', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    for (const stop of stops) await stop().catch(() => undefined);
    await collector?.close();
  });

  it('exports over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, and the CLI sends its spans there too', async () => {
    const svc = await spawnedService({ OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '200' });
    stops.push(() => svc.stop());
    const client = clientTrace();
    const res = await svc.api('POST', '/v1/clusters', {
      headers: { traceparent: client.traceparent },
      body: { team: 'alpha', name: uniqueName('otlp'), blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const op = await svc.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.traceId, client.traceId);
    await svc.stop();
    assert.match(svc.service.output(), /"msg":"tracing on"/);

    const traceBytes = Buffer.from(client.traceId, 'hex');
    const exports = collector.received.filter((r) => r.path === '/v1/traces' && r.body.includes(traceBytes));
    const ours = exports.filter((r) => r.body.includes('clusterd') && !r.body.includes('pulumi-cli'));
    const cli = exports.filter((r) => r.body.includes('pulumi-cli'));
    assert.ok(ours.length > 0, 'our spans reached the collector');
    assert.ok(cli.length > 0, "the CLI's spans reached the collector");
    for (const r of exports) assert.equal(r.headers['content-type'], 'application/x-protobuf');
    const names = Buffer.concat(ours.map((r) => r.body)).toString('latin1');
    for (const name of [
      'HTTP POST /v1/clusters',
      'record operation',
      'queue wake',
      'operation provision',
      'child process',
      'engine provision',
    ])
      assert.ok(names.includes(name), `${name} exported`);
  });

  it('stays off with OTEL_TRACES_EXPORTER=none: nothing exported, no trace ids in answers', async () => {
    const before = collector.received.length;
    const svc = await spawnedService({
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_BSP_SCHEDULE_DELAY: '200',
    });
    stops.push(() => svc.stop());
    const client = clientTrace();
    const res = await svc.api('POST', '/v1/clusters', {
      headers: { traceparent: client.traceparent },
      body: { team: 'alpha', name: uniqueName('untraced'), blueprint: 'local-files', spec: localSpec() },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.operation.traceId, null);
    const op = await svc.waitFor(res.body.operation.id);
    assert.equal(op.status, 'succeeded', JSON.stringify(op.error));
    assert.equal(op.traceId, null);
    const bad = await svc.api('GET', `/v1/operations/${randomUUID()}`, { headers: { traceparent: client.traceparent } });
    assert.equal(bad.status, 404);
    assert.equal('traceId' in bad.body, false);
    await svc.stop();
    assert.doesNotMatch(svc.service.output(), /tracing on/);
    assert.equal(collector.received.length, before, 'nothing reached the collector');
  });
});

function pick(attributes: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.map((k) => [k, attributes[k]]));
}
