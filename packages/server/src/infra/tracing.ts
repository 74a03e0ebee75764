/**
 * OpenTelemetry traces, exported over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the standard `OTEL_*` variables itself (headers,
 * timeout, `OTEL_SERVICE_NAME`). A request's span is its trace: the trace id is the one the response's `traceparent`
 * and every error body already carry, continued from the caller's `traceparent`. Spans are made at Hookbot's own
 * seams (the request, each database statement, each bot run, each outbound call) rather than by patching modules at
 * load time, which ESM makes unreliable. Without an endpoint nothing is recorded and `traced` costs a branch.
 *
 * What a span carries is chosen not to hold health data: route patterns (never paths), SQL text (never its
 * parameters), a bot's id, the host of an outbound call (never its path or query).
 */
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { Database } from './database-interface.js';

const tracer = trace.getTracer('hookbot');
let provider: NodeTracerProvider | undefined;

export function tracingEnabled(): boolean {
  return provider !== undefined;
}

export interface TracingOptions {
  /** Where spans go: the OTLP/HTTP traces URL (`…/v1/traces`). */
  tracesUrl: string;
  serviceName: string;
}

/** Starts exporting spans to `tracesUrl`; idempotent. */
export function startTracing(options: TracingOptions): void {
  if (provider) return;
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: options.tracesUrl }))],
  });
  // The AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
}

/** Sends the spans still buffered; on shutdown. */
export async function stopTracing(): Promise<void> {
  const p = provider;
  provider = undefined;
  await p?.shutdown();
}

/** The server span of an incoming request, continuing the caller's `traceparent`; undefined while disabled. */
export function startRequestSpan(
  method: string,
  headers: Record<string, string | string[] | undefined>,
): { span: Span; context: Context } | undefined {
  if (!provider) return undefined;
  // The trace context only: the default propagator also reads W3C `baggage`, which outbound calls would then carry,
  // a caller's header passed on to the EHRs and partners Hookbot calls.
  const { traceparent, tracestate } = headers;
  const parent = propagation.extract(context.active(), { traceparent, tracestate });
  const attributes = { 'http.request.method': method };
  const span = tracer.startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Names the span by its route pattern, known only once the router has matched. */
export function endRequestSpan(span: Span, method: string, route: string, status: number): void {
  if (route !== 'unmatched') span.updateName(`${method} ${route}`);
  span.setAttributes({ 'http.route': route, 'http.response.status_code': status });
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  span.end();
}

/** Runs `fn` in a child span of the active one; while tracing is off, just runs it. */
export async function traced<T>(
  name: string,
  attributes: Attributes,
  fn: (span: Span | undefined) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  if (!provider) return fn(undefined);
  return tracer.startActiveSpan(name, { kind, attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Adds the active span's `traceparent` to outgoing headers, so the callee's spans join the trace. */
export function injectTraceHeaders(headers: Record<string, string>): void {
  if (provider) propagation.inject(context.active(), headers);
}

/** Runs `fn` outside any trace: background work a request merely started (the audit writer's flushes). */
export function untraced<T>(fn: () => T): T {
  return provider ? context.with(ROOT_CONTEXT, fn) : fn();
}

/** Runs `fn` (the rest of the request) inside the request's span. */
export function withRequestSpan<T>(spanContext: Context, fn: () => Promise<T>): Promise<T> {
  return context.with(spanContext, fn);
}

const MAX_STATEMENT_CHARS = 2000;

/** Each statement and transaction as a span (`db.query.text` without its parameters); `db` itself when tracing is off. */
export function tracedDatabase(db: Database): Database {
  if (!provider) return db;
  // A transaction's statements count against the database it runs on (`Database.root`: the store's statistics).
  const wrap = (inner: Database, root?: Database): Database => {
    const self: Database = {
      kind: inner.kind,
      query: (sql, params, options) =>
        traced(
          'db.query',
          { 'db.system.name': 'postgresql', 'db.query.text': sql.slice(0, MAX_STATEMENT_CHARS) },
          () => inner.query(sql, params, options),
          SpanKind.CLIENT,
        ),
      transaction: (fn) =>
        traced('db.transaction', { 'db.system.name': 'postgresql' }, () =>
          inner.transaction((tx) => fn(wrap(tx, root ?? self))),
        ),
      close: () => inner.close(),
      ...(inner.poolStats ? { poolStats: inner.poolStats.bind(inner) } : {}),
      ...(root ? { root } : {}),
    };
    return self;
  };
  return wrap(db);
}

export { SpanKind };
