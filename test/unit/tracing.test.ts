import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { formatTraceParent, parseTraceParent, traceIdOf } from '../../src/tracing/trace-parent.js';
import { tracingSettings } from '../../src/tracing/tracing-settings.js';

const child = fileURLToPath(new URL('../support/tracing-child.ts', import.meta.url));
const run = promisify(execFile);

/** What the child saw with tracing `on` or `off` (a process of its own: tracing is process-wide). */
async function traced(mode: 'on' | 'off') {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, mode]);
  return JSON.parse(stdout) as { loaded: string[]; problem: Record<string, unknown>; traceParent: string | null; spans: string[] };
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('tracing off', () => {
  it('loads no module of the SDK, records no trace and names none in a problem', async () => {
    const off = await traced('off');
    assert.deepEqual(off.loaded, ['@opentelemetry/api']);
    assert.equal(off.traceParent, null);
    assert.deepEqual(off.problem, {
      type: 'urn:clusterd:problem:not-found',
      title: 'Not found',
      status: 404,
      detail: 'no such thing',
      instance: '/v1/things/1',
    });
    assert.deepEqual(off.spans, []);
  });

  it('loads the SDK, records the trace and names it in a problem once on (the same program, for contrast)', async () => {
    const on = await traced('on');
    for (const name of ['@opentelemetry/sdk-trace-base', '@opentelemetry/context-async-hooks', '@opentelemetry/resources'])
      assert.ok(on.loaded.includes(name), `${name} loaded: ${on.loaded.join(', ')}`);
    assert.ok(!on.loaded.includes('@opentelemetry/exporter-trace-otlp-proto'), 'the OTLP exporter loads only when it exports');
    assert.match(String(on.problem.traceId), /^[0-9a-f]{32}$/);
    assert.match(on.traceParent ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    assert.deepEqual(on.spans.sort(), ['HTTP GET /v1/things/:id', 'record operation']);
  });
});

describe('traceparent', () => {
  it('reads version 00 and writes it back', () => {
    const parsed = parseTraceParent(`00-${TRACE}-${SPAN}-01`);
    assert.deepEqual(parsed, { traceId: TRACE, spanId: SPAN, traceFlags: 1, isRemote: true });
    assert.equal(formatTraceParent(parsed), `00-${TRACE}-${SPAN}-01`);
    assert.equal(formatTraceParent({ traceId: TRACE, spanId: SPAN, traceFlags: 0 }), `00-${TRACE}-${SPAN}-00`);
    assert.equal(traceIdOf(`00-${TRACE}-${SPAN}-00`), TRACE);
  });

  it('keeps only the sampled flag, and reads a later version by its first four fields', () => {
    assert.equal(parseTraceParent(`00-${TRACE}-${SPAN}-03`)?.traceFlags, 1);
    assert.equal(parseTraceParent(`cc-${TRACE}-${SPAN}-01-what-comes-later`)?.traceId, TRACE);
  });

  it('refuses what the specification says to ignore', () => {
    for (const bad of [
      '',
      'garbage',
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-extra`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}`,
    ])
      assert.equal(parseTraceParent(bad), null, bad);
    assert.equal(traceIdOf(null), null);
  });
});

describe('tracing settings, from the standard variables', () => {
  const settingsOf = (env: Record<string, string>) => loadConfig(env).tracing;

  it('are off unless an exporter or an endpoint is named', () => {
    assert.equal(settingsOf({}), null);
    assert.equal(settingsOf({ OTEL_SERVICE_NAME: 'x' }), null);
    assert.equal(settingsOf({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), null);
    assert.equal(settingsOf({ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }), null);
  });

  it('name the service as the specification says', () => {
    const on = { OTEL_TRACES_EXPORTER: 'otlp' };
    assert.equal(settingsOf(on)?.serviceName, 'clusterd');
    assert.equal(
      settingsOf({ ...on, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=clusterd%20eu' })?.serviceName,
      'clusterd eu',
    );
    assert.equal(settingsOf({ ...on, OTEL_RESOURCE_ATTRIBUTES: 'service.name=a', OTEL_SERVICE_NAME: 'b' })?.serviceName, 'b');
  });

  it('hand the CLI the OTLP traces endpoint the exporter uses', () => {
    assert.deepEqual(settingsOf({ OTEL_TRACES_EXPORTER: 'otlp' }), {
      serviceName: 'clusterd',
      cliTraces: 'http://localhost:4318/v1/traces',
    });
    assert.deepEqual(settingsOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/', OTEL_SERVICE_NAME: 'clusterd-eu' }), {
      serviceName: 'clusterd-eu',
      cliTraces: 'https://collector:4318/v1/traces',
    });
    assert.deepEqual(settingsOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_SDK_DISABLED: 'false' }), {
      serviceName: 'clusterd',
      cliTraces: 'http://collector:4318/custom',
    });
  });

  it('never put export headers on the CLI command line: the CLI then exports only where CLUSTERD_ENGINE_OTEL_TRACES says', () => {
    const withHeaders = settingsOf({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://vendor.example',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=s3cr3t',
    });
    assert.equal(withHeaders?.cliTraces, null);
    assert.match(withHeaders?.cliTracesNote ?? '', /CLUSTERD_ENGINE_OTEL_TRACES/);
    assert.ok(
      !JSON.stringify(loadConfig({ OTEL_EXPORTER_OTLP_TRACES_HEADERS: 's3cr3t' })).includes('s3cr3t'),
      'header values stay out of the configuration',
    );
    assert.equal(
      settingsOf({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://vendor.example',
        OTEL_EXPORTER_OTLP_HEADERS: 'k=v',
        CLUSTERD_ENGINE_OTEL_TRACES: 'grpc://agent:4317',
      })?.cliTraces,
      'grpc://agent:4317',
    );
    assert.equal(settingsOf({ OTEL_TRACES_EXPORTER: 'otlp', CLUSTERD_ENGINE_OTEL_TRACES: 'off' })?.cliTraces, null);
  });

  it('refuse what the service cannot export to, every key named', () => {
    assert.throws(
      () =>
        loadConfig({
          OTEL_TRACES_EXPORTER: 'zipkin',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
          OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
          CLUSTERD_ENGINE_OTEL_TRACES: 'file://relative/dir',
        }),
      (err: Error) =>
        /OTEL_TRACES_EXPORTER: must be otlp or none/.test(err.message) &&
        /OTEL_EXPORTER_OTLP_PROTOCOL: must be http\/protobuf/.test(err.message) &&
        /OTEL_EXPORTER_OTLP_ENDPOINT: must be an http:\/\/ or https:\/\/ URL/.test(err.message) &&
        /CLUSTERD_ENGINE_OTEL_TRACES: must be file:\/\/\/<absolute directory>/.test(err.message),
    );
  });

  it('are the same function of the variables wherever they are read', () => {
    assert.deepEqual(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318' }), {
      serviceName: 'clusterd',
      cliTraces: 'http://a:4318/v1/traces',
    });
  });
});
