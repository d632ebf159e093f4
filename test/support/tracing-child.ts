// A process that uses tracing as the service does, with it `on` (an in-memory exporter) or `off`
// (argv[2]), and prints what it saw as one JSON line: which OpenTelemetry modules it loaded, the
// traceparent a span had, and the problem document an error answered with.
import { registerHooks } from 'node:module';

const loaded = new Set<string>();
// Before anything of the service is imported: every module of the OpenTelemetry packages, as it resolves.
registerHooks({
  resolve(specifier, context, next) {
    const resolved = next(specifier, context);
    const name = /node_modules\/(@opentelemetry\/[^/]+)\//.exec(resolved.url)?.[1];
    if (name) loaded.add(name);
    return resolved;
  },
});

const on = process.argv[2] === 'on';
const express = (await import('express')).default;
const { createLogger } = await import('../../src/logger.js');
const { NotFoundError } = await import('../../src/errors.js');
const { inSpan, startTracing, traceParentOf } = await import('../../src/tracing/tracing.js');
const { traceRequests } = await import('../../server/request-tracing.js');
const { errorHandler } = await import('../../server/error-handler.js');

const exporter = on ? new (await import('@opentelemetry/sdk-trace-base')).InMemorySpanExporter() : undefined;
const tracing = await startTracing(on ? { serviceName: 'clusterd', cliTraces: null } : null, { exporter });

const app = express();
app.use(traceRequests());
app.get('/v1/things/:id', () => {
  throw new NotFoundError('no such thing');
});
app.use(errorHandler(createLogger('silent')));
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as { port: number };
const answer = await fetch(`http://127.0.0.1:${port}/v1/things/1`);
const problem = (await answer.json()) as Record<string, unknown>;
server.close();

const traceParent = await inSpan('record operation', {}, (span) => Promise.resolve(traceParentOf(span)));
await tracing.flush();
const spans = exporter?.getFinishedSpans().map((s) => s.name) ?? [];
await tracing.shutdown();
console.log(JSON.stringify({ loaded: [...loaded].sort(), problem, traceParent, spans }));
