/**
 * The OpenTelemetry SDK, set up for this process. Loaded by src/tracing/tracing.ts only when tracing
 * is on: with it off, no module of the SDK is ever loaded and the API's no-op tracer answers.
 */
import { context, diag, DiagLogLevel, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from 'pino';
import { fromTransferred, toTransferred, type TransferredSpan } from './span-transfer.js';
import type { TracingSettings } from './tracing-settings.js';

/** Where this process's spans go. */
export interface SdkOptions {
  /** Exports the spans (a test's in-memory exporter). @defaultValue OTLP/HTTP with protobuf, configured by the OTEL_EXPORTER_OTLP_* variables */
  exporter?: SpanExporter;
  /** Hands every finished span to the parent process instead (a job's child); wins over `exporter`. */
  sendTo?: (spans: TransferredSpan[]) => void;
  /** Where the SDK's own warnings and errors (a failed export) go. @defaultValue nowhere */
  log?: Logger;
}

export interface RunningSdk {
  /** Exports spans another process finished (a job's child), as this process's own. */
  adopt(spans: TransferredSpan[]): void;
  flush(): Promise<void>;
  /** Flushes, then puts the API's no-op tracer, context and propagator back. */
  shutdown(): Promise<void>;
}

/** Registers the tracer provider, the async context and the W3C propagator of this process. */
export async function startSdk(settings: TracingSettings, options: SdkOptions = {}): Promise<RunningSdk> {
  if (options.log) diag.setLogger(diagTo(options.log), DiagLogLevel.WARN);
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': settings.serviceName }));
  // A child's spans go to its parent as they end: few, and its result must not overtake them.
  const processor: SpanProcessor = options.sendTo
    ? new SimpleSpanProcessor(new ParentExporter(options.sendTo))
    : new BatchSpanProcessor(options.exporter ?? (await otlpExporter()));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    adopt(spans) {
      for (const span of spans) processor.onEnd(fromTransferred(span, resource));
    },
    flush: () => provider.forceFlush(),
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        trace.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      }
    },
  };
}

/** The OTLP/HTTP protobuf exporter, which reads its endpoint, headers, timeout and compression from the environment itself. */
async function otlpExporter(): Promise<SpanExporter> {
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter();
}

/** Posts finished spans to the parent process. */
class ParentExporter implements SpanExporter {
  constructor(private readonly send: (spans: TransferredSpan[]) => void) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    try {
      this.send(spans.map(toTransferred));
      done({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      done({ code: ExportResultCode.FAILED, error: error as Error });
    }
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

function diagTo(log: Logger) {
  const warn = (message: string) => log.warn({ component: 'opentelemetry' }, message);
  const none = () => undefined;
  return { error: warn, warn, info: none, debug: none, verbose: none };
}
