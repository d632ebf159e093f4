/**
 * Traces with OpenTelemetry, off unless configured (see tracing-settings.ts). The one place a process
 * starts tracing (src/main.ts for the service, queue/child-entry.ts for a job's child), and the few
 * helpers the code that makes spans uses. With tracing off the SDK is never loaded: the helpers run
 * their callback straight away, and the API's no-op tracer answers anything else.
 *
 * Span attributes name operations, clusters and blueprints; never a spec value, a secret or a token.
 */
import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type SpanOptions,
} from '@opentelemetry/api';
import type { SdkOptions, RunningSdk } from './tracing-sdk.js';
import type { TransferredSpan } from './span-transfer.js';
import { formatTraceParent, parseTraceParent } from './trace-parent.js';
import type { TracingSettings } from './tracing-settings.js';

export type { TracingSettings } from './tracing-settings.js';
export type { TransferredSpan } from './span-transfer.js';

/** The tracing of this process, once started. */
export interface Tracing {
  /** Exports every span finished so far. */
  flush(): Promise<void>;
  /** Flushes and stops: the process traces nothing more. */
  shutdown(): Promise<void>;
}

/** Options of {@link startTracing}: where the spans go. */
export type TracingOptions = SdkOptions;

const OFF: Tracing = { flush: () => Promise.resolve(), shutdown: () => Promise.resolve() };

let running: { sdk: RunningSdk; settings: TracingSettings } | null = null;

/**
 * Starts tracing in this process with `settings`; null leaves it off (nothing is loaded). One
 * tracing per process: starting again before the last one is shut down is refused.
 */
export async function startTracing(settings: TracingSettings | null, options: TracingOptions = {}): Promise<Tracing> {
  if (!settings) return OFF;
  if (running) throw new Error('tracing is already started in this process');
  const { startSdk } = await import('./tracing-sdk.js');
  const sdk = await startSdk(settings, options);
  running = { sdk, settings };
  // Without its query: the CLI takes headers there, credentials perhaps.
  options.log?.info({ serviceName: settings.serviceName, cliTraces: settings.cliTraces?.split('?')[0] ?? null }, 'tracing on');
  if (settings.cliTracesNote) options.log?.warn(settings.cliTracesNote);
  return {
    flush: () => sdk.flush(),
    async shutdown() {
      if (running?.sdk !== sdk) return;
      running = null;
      await sdk.shutdown();
    },
  };
}

/** Whether this process traces. */
export function tracingOn(): boolean {
  return running !== null;
}

/** The settings this process traces with, or null when tracing is off. */
export function currentTracingSettings(): TracingSettings | null {
  return running?.settings ?? null;
}

/** Exports spans a job's child finished as this process's own; nothing when tracing is off. */
export function adoptSpans(spans: TransferredSpan[]): void {
  running?.sdk.adopt(spans);
}

const tracer = () => trace.getTracer('clusterd');

/** A span that records nothing, for callbacks run with tracing off. */
const NO_SPAN: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Options of {@link inSpan}. */
export interface InSpanOptions extends SpanOptions {
  /** The parent context. @defaultValue the active one */
  parent?: Context;
}

/**
 * Runs `fn` in a new active span, ended when `fn` settles; a throw marks the span failed with the
 * error's name only (messages may quote values). With tracing off `fn` runs as it is.
 */
export async function inSpan<T>(name: string, options: InSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  if (!running) return fn(NO_SPAN);
  const { parent = context.active(), ...spanOptions } = options;
  return tracer().startActiveSpan(name, spanOptions, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Starts a span the caller ends (a request's, which ends with its answer). */
export function startSpan(name: string, options: SpanOptions, parent: Context): Span {
  return running ? tracer().startSpan(name, options, parent) : NO_SPAN;
}

/** Marks a span failed, saying only `reason` (an error code, a status), never a message. */
export function failSpan(span: Span, reason: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
}

/** The `traceparent` of a span, or null when it has no valid context (tracing off). */
export function traceParentOf(span: Span): string | null {
  const spanContext = span.spanContext();
  return trace.isSpanContextValid(spanContext) ? formatTraceParent(spanContext) : null;
}

/** The `traceparent` of the active span, or null. */
export function activeTraceParent(): string | null {
  const span = trace.getActiveSpan();
  return span ? traceParentOf(span) : null;
}

/** A context whose parent is the span a stored `traceparent` names; the root context (a new trace) when there is none. */
export function contextOf(traceParent: string | null | undefined): Context {
  const parent = parseTraceParent(traceParent);
  return parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
}

/**
 * The active context when a span is active in it (a request's), else the context of a stored
 * `traceparent` (a background pass queues an operation after the span that recorded it has ended).
 */
export function activeContextOr(traceParent: string | null | undefined): Context {
  return trace.getActiveSpan() ? context.active() : contextOf(traceParent);
}

/** The context an incoming request's `traceparent` header continues, through the registered propagator. */
export function requestContext(headers: Record<string, string | string[] | undefined>): Context {
  return running ? propagation.extract(ROOT_CONTEXT, headers) : ROOT_CONTEXT;
}

/** Runs `fn` with `ctx` active, binding the listeners added to `emitters` to it too (a request's events). */
export function withContext<T>(ctx: Context, fn: () => T, emitters: NodeJS.EventEmitter[] = []): T {
  if (!running) return fn();
  for (const emitter of emitters) context.bind(ctx, emitter);
  return context.with(ctx, fn);
}

/** The attributes of the spans about one operation: what it is and where, nothing of its spec. */
export function operationAttributes(op: { id: string; kind: string; clusterName?: string; blueprint?: string }): Attributes {
  return {
    'clusterd.operation.id': op.id,
    'clusterd.operation.kind': op.kind,
    ...(op.clusterName ? { 'clusterd.cluster.name': op.clusterName } : {}),
    ...(op.blueprint ? { 'clusterd.blueprint': op.blueprint } : {}),
  };
}
