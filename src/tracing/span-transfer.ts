/**
 * Finished spans of a job's child, handed to its worker over IPC, which exports them with its own:
 * the child needs no exporter, no endpoint and none of the exporter's headers (its environment stays
 * the filtered one), and a test's in-process exporter sees them. Types only: no SDK module loads here.
 */
import type { SpanContext } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A finished span as plain data (structured-clone safe): a ReadableSpan without its resource, which the exporting process gives. */
export type TransferredSpan = Omit<ReadableSpan, 'spanContext' | 'resource'> & { context: SpanContext };

/** A span context without its trace state, a class instance that would not survive the crossing. */
const plain = (c: SpanContext): SpanContext => ({
  traceId: c.traceId,
  spanId: c.spanId,
  traceFlags: c.traceFlags,
  isRemote: c.isRemote ?? false,
});

export function toTransferred(span: ReadableSpan): TransferredSpan {
  return {
    name: span.name,
    kind: span.kind,
    context: plain(span.spanContext()),
    ...(span.parentSpanContext ? { parentSpanContext: plain(span.parentSpanContext) } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    duration: span.duration,
    ended: span.ended,
    status: span.status,
    attributes: span.attributes,
    links: span.links.map((link) => ({ ...link, context: plain(link.context) })),
    events: span.events,
    instrumentationScope: { ...span.instrumentationScope },
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

export function fromTransferred(span: TransferredSpan, resource: Resource): ReadableSpan {
  const { context, ...rest } = span;
  return { ...rest, spanContext: () => context, resource };
}
