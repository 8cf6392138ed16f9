import { randomFillSync } from "node:crypto";
import { TraceFlags, type SpanContext } from "@opentelemetry/api";

/**
 * A hop's trace: OpenTelemetry's span context (trace id, span id, flags), so
 * the runtime's trace and a span of the OpenTelemetry SDK are one value and
 * need no conversion. On the wire it is a W3C `traceparent`
 * (https://www.w3.org/TR/trace-context/), written and read here, so it
 * travels whether or not an SDK is installed.
 */
export type TraceContext = SpanContext;

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** Random ids come from a pool refilled 4 KiB at a time: one refill (a syscall) serves many traces, so a hop does not pay a syscall for its span id. */
const pool = Buffer.alloc(4096);
let offset = pool.length;
function randomHex(bytes: number): string {
  if (offset + bytes > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  offset += bytes;
  return pool.toString("hex", offset - bytes, offset);
}

export function newTrace(): TraceContext {
  return { traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED };
}

/** The same trace, a new span: what the receiver of a hop works under while no tracer makes its spans. */
export function childSpan(parent: TraceContext): TraceContext {
  return { traceId: parent.traceId, spanId: randomHex(8), traceFlags: parent.traceFlags };
}

export const isSampled = (t: TraceContext): boolean => (t.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;

export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${isSampled(t) ? "01" : "00"}`;
}

/** Parses a `traceparent` header; anything malformed is ignored (undefined), as the spec asks. */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (!header) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m || m[1] === ZERO_TRACE || m[2] === ZERO_SPAN) return undefined;
  return { traceId: m[1]!, spanId: m[2]!, traceFlags: parseInt(m[3]!, 16) & TraceFlags.SAMPLED, isRemote: true };
}
