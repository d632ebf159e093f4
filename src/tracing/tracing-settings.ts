/**
 * Whether this service traces, from the OpenTelemetry SDK's standard variables (parsed and checked by
 * src/config.ts): off unless an exporter or an endpoint is named. What the exporter itself reads
 * (headers, timeout, compression, certificates, the sampler, the batch sizes, resource attributes)
 * the SDK reads from the environment on its own.
 */

/** What the tracing of a process is started with; null settings: tracing is off. Plain data: it crosses to a job's child. */
export interface TracingSettings {
  /** `service.name` of this service's spans: OTEL_SERVICE_NAME, else the one OTEL_RESOURCE_ATTRIBUTES names. @defaultValue clusterd */
  serviceName: string;
  /**
   * Where each job's Pulumi CLI sends its own spans: the value of its `--otel-traces` (grpc://,
   * grpcs://, http://, https://, or file://<directory>, where each CLI process writes its own file);
   * null: the CLI exports none (it still gets the trace context).
   */
  cliTraces: string | null;
  /** Why the CLI's spans go nowhere although tracing is on, when it is not the operator's choice; logged at start. */
  cliTracesNote?: string;
}

/** The variables tracing is decided by, as src/config.ts parsed them. */
export interface TracingEnv {
  OTEL_SDK_DISABLED?: boolean | undefined;
  OTEL_TRACES_EXPORTER?: 'otlp' | 'none' | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  /** Whether export headers are given (their values stay with the exporter). */
  OTEL_EXPORTER_OTLP_HEADERS?: true | undefined;
  OTEL_EXPORTER_OTLP_TRACES_HEADERS?: true | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
  OTEL_RESOURCE_ATTRIBUTES?: string | undefined;
  CLUSTERD_ENGINE_OTEL_TRACES?: string | undefined;
}

/** The OTLP/HTTP port the specification gives as the default endpoint. */
const DEFAULT_OTLP_HTTP = 'http://localhost:4318';

/**
 * The tracing settings, or null when tracing is off: `OTEL_SDK_DISABLED=true`, or
 * `OTEL_TRACES_EXPORTER=none`, or neither `OTEL_TRACES_EXPORTER` nor an OTLP endpoint is set.
 */
export function tracingSettings(env: TracingEnv): TracingSettings | null {
  if (env.OTEL_SDK_DISABLED) return null;
  const named = env.OTEL_TRACES_EXPORTER;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (named === 'none' || (named === undefined && endpoint === undefined)) return null;
  const serviceName = env.OTEL_SERVICE_NAME ?? serviceNameIn(env.OTEL_RESOURCE_ATTRIBUTES) ?? 'clusterd';
  const own = env.CLUSTERD_ENGINE_OTEL_TRACES;
  if (own !== undefined) return { serviceName, cliTraces: own === 'off' ? null : own };
  // The CLI takes headers only as query parameters of its endpoint, which would put them on its command
  // line, where every process of the job (provider plugins run blueprint code) can read them.
  if (env.OTEL_EXPORTER_OTLP_TRACES_HEADERS || env.OTEL_EXPORTER_OTLP_HEADERS)
    return {
      serviceName,
      cliTraces: null,
      cliTracesNote:
        "the Pulumi CLI's spans are not exported: the OTLP endpoint takes headers, which the CLI could only be given on its command line; " +
        'set CLUSTERD_ENGINE_OTEL_TRACES to a collector that needs none (an agent beside the worker)',
    };
  return { serviceName, cliTraces: otlpTracesUrl(env) };
}

/** The OTLP/HTTP traces URL the SDK's exporter uses too: the traces endpoint as given, or `v1/traces` under the base endpoint. */
function otlpTracesUrl(env: TracingEnv): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? DEFAULT_OTLP_HTTP;
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** The `service.name` of `OTEL_RESOURCE_ATTRIBUTES` (`key=value,...`, values percent-encoded), if it names one. */
function serviceNameIn(attributes: string | undefined): string | undefined {
  for (const pair of attributes?.split(',') ?? []) {
    const [key, ...value] = pair.split('=');
    if (key?.trim() !== 'service.name' || !value.length) continue;
    try {
      return decodeURIComponent(value.join('=').trim()) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
