import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { abortable, childSpan, ColmenaError, formatTraceparent, newTrace, parseTraceparent, tracingEnabled, type CallScope, type TraceContext } from "../../runtime/index.js";
import { onceEnded } from "./request-end.js";
import { serverSpan } from "./server-span.js";

/**
 * One request as the call scope every actor hop behind it continues: the
 * deadline, set here once from the bridge's timeout; the trace; and a signal
 * that aborts when the client goes away before its answer is finished
 * (reason CANCELLED) or when the deadline passes (reason TIMEOUT). Handlers
 * hand the scope to the RagApi, so a closed tab stops the generation behind
 * it, and guard their awaits with it, so a deadline answers 504 even when
 * the work behind it does not stop.
 */
export interface RequestScope extends CallScope {
  readonly signal: AbortSignal;
  /** The request's trace: the caller's `traceparent` continued, or a new one; echoed in the response's `traceparent`. */
  readonly trace: TraceContext;
  /** Milliseconds left before the deadline (at least 1). */
  remainingMs(): number;
  /** Settles as `work` does, or rejects with the abort reason as soon as the scope aborts. */
  guard<T>(work: Promise<T>): Promise<T>;
  /** The request is answered with this error code (its span says so). */
  failed(code: string): void;
}

const scopes = new WeakMap<FastifyRequest, RequestScope>();

/** Opens a scope for every request as it arrives. */
export function attachScopes(app: FastifyInstance, timeoutMs: number): void {
  app.addHook("onRequest", async (request, reply) => {
    scopes.set(request, openScope(request, reply, timeoutMs));
  });
}

/** The scope of a request that may have failed before it had one (a connection-level error). */
export const maybeScopeOf = (request: FastifyRequest): RequestScope | undefined => scopes.get(request);

export function scopeOf(request: FastifyRequest): RequestScope {
  const scope = scopes.get(request);
  if (scope === undefined) throw new ColmenaError("INTERNAL", "request has no scope");
  return scope;
}

function openScope(request: FastifyRequest, reply: FastifyReply, timeoutMs: number): RequestScope {
  const header = request.headers.traceparent;
  const parent = parseTraceparent(typeof header === "string" ? header : undefined);
  // With tracing on the request is a server span (its end recorded when the response ends); without, a span id of its own.
  const span = tracingEnabled() ? serverSpan(request, parent) : undefined;
  const trace = span?.trace ?? (parent ? childSpan(parent) : newTrace());
  reply.header("traceparent", formatTraceparent(trace));
  const controller = new AbortController();
  const deadline = Date.now() + timeoutMs;
  const timer = setTimeout(() => {
    controller.abort(new ColmenaError("TIMEOUT", `the request took longer than ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref();
  // 'close' on the response comes after it finished, or when the connection
  // dropped first. (IncomingMessage 'close' fires once the body is read, so it
  // cannot tell a gone client from a finished upload.)
  let failure: string | undefined;
  onceEnded(reply, (finished) => {
    clearTimeout(timer);
    if (!finished) controller.abort(new ColmenaError("CANCELLED", "the client closed the connection"));
    span?.end(finished ? reply.raw.statusCode : 499, finished ? failure : "CANCELLED");
  });
  const signal = controller.signal;
  return {
    deadline,
    signal,
    trace,
    remainingMs: () => Math.max(1, deadline - Date.now()),
    guard: <T>(work: Promise<T>) => abortable(work, signal),
    failed: (code) => {
      failure = code;
    },
  };
}
