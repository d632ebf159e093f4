/**
 * W3C Trace Context `traceparent` values (https://www.w3.org/TR/trace-context/#traceparent-header):
 * how a span's context is stored on an operation, handed to a job's child and to the Pulumi CLI
 * (`TRACEPARENT`). Ids and flags only: nothing else can travel in one.
 */
import { TraceFlags, type SpanContext } from '@opentelemetry/api';

/** Version 00: `00-<trace id, 32 hex>-<parent span id, 16 hex>-<flags, 2 hex>`. Later versions may add fields after a `-`. */
const TRACE_PARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The span context a `traceparent` names, marked remote; null when it is not a valid one (the spec says: start a new trace then). */
export function parseTraceParent(text: string | null | undefined): SpanContext | null {
  const match = text ? TRACE_PARENT.exec(text.trim()) : null;
  if (!match) return null;
  const [, version, traceId, spanId, flags, rest] = match as unknown as [string, string, string, string, string, string | undefined];
  // ff is forbidden; version 00 has exactly four fields.
  if (version === 'ff' || (version === '00' && rest !== undefined)) return null;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return null;
  return { traceId, spanId, traceFlags: parseInt(flags, 16) & TraceFlags.SAMPLED, isRemote: true };
}

/** The `traceparent` (version 00) of a span context. */
export function formatTraceParent(context: Pick<SpanContext, 'traceId' | 'spanId' | 'traceFlags'>): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The trace id of a stored `traceparent`, or null when there is none (the operation was accepted with tracing off). */
export function traceIdOf(traceParent: string | null | undefined): string | null {
  return parseTraceParent(traceParent)?.traceId ?? null;
}
