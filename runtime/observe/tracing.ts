import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import type { TraceContext } from "./trace.js";

/**
 * Spans, through `@opentelemetry/api` only: the SDK that records and exports
 * them is the CLI's (cli/telemetry.ts), which turns them on here once it is
 * installed. Until then `tracer` is undefined and every hop checks that one
 * variable and makes nothing, so tracing that is off costs no span objects,
 * no context switches, no allocation.
 */
let tracer: Tracer | undefined;

/** Spans from now on go to the globally registered tracer provider (the SDK's). */
export function enableTracing(): void {
  tracer = trace.getTracer("colmena");
}

/** Back to no spans (tests that install and remove an SDK). */
export function disableTracing(): void {
  tracer = undefined;
}

export const tracingEnabled = (): boolean => tracer !== undefined;

/**
 * Whether a hop under `parent` makes spans: tracing is on and the trace is
 * sampled, or there is no trace yet (its root span is where the sampler
 * decides). A trace its root left unsampled travels on as it came, with no
 * span objects on any hop: what parent-based sampling (the default) would
 * decide for each of them anyway, without paying for the decision.
 */
export function traces(parent: TraceContext | undefined): boolean {
  return tracer !== undefined && (parent === undefined || (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED);
}

export { SpanKind, type Attributes, type Span };

/**
 * A span under `parent` (a remote or local span context), or a root span
 * when there is none. Only while tracing is enabled. Attributes are made
 * (`attributes()`) only for a span that records: a root the sampler left out
 * costs no attribute object.
 */
export function startSpan(name: string, kind: SpanKind, parent: TraceContext | undefined, attributes: () => Attributes): Span {
  const ctx = parent === undefined ? ROOT_CONTEXT : trace.setSpanContext(ROOT_CONTEXT, parent);
  const span = tracer!.startSpan(name, { kind }, ctx);
  if (span.isRecording()) span.setAttributes(attributes());
  return span;
}

/** Ends a span; an error sets its status and `error.type` to the typed error's code (else the error's name). */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.setAttribute("error.type", errorType(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/** Runs `fn` with `span` as the active span, so what it starts (stages, log lines, JetStream appends) finds it. */
export function withSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(ROOT_CONTEXT, span), fn);
}

/** The active span's context, while tracing is enabled. */
export function activeTrace(): TraceContext | undefined {
  if (tracer === undefined) return undefined;
  const span = trace.getSpan(context.active());
  return span?.spanContext();
}

/** A stage of an actor's work (embed, shard search, fuse, cache lookup, generate): a span under the active one. */
export interface Stage {
  set(attributes: Attributes): void;
  /** Ends the stage; with an error, as a failure (status, `error.type`). */
  end(error?: unknown): void;
}

const NO_STAGE: Stage = { set() {}, end() {} };

/**
 * Opens a stage span under the active span, when there is one that records;
 * otherwise (tracing off, work outside any traced message, an unsampled
 * trace) one shared object that does nothing: a stage is never a trace of
 * its own.
 */
export function stage(name: string, attributes?: Attributes): Stage {
  if (tracer === undefined) return NO_STAGE;
  const active = context.active();
  if (trace.getSpan(active)?.isRecording() !== true) return NO_STAGE;
  const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, ...(attributes && { attributes }) }, active);
  return {
    set: (a) => span.setAttributes(a),
    end: (error) => endSpan(span, error),
  };
}

function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string") return code;
  return error instanceof Error ? error.name : "Error";
}
