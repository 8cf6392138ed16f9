import type { FastifyInstance } from "fastify";
import { scopeOf } from "./request-scope.js";

/** Probes and scrapes: polled every few seconds, so their lines go to debug. */
const QUIET_ROUTES = new Set(["/health", "/ready", "/metrics"]);

/**
 * Every request's logger carries its trace (`trace_id`, `span_id`), so each
 * line written while handling it can be found from the trace, and one info
 * line is written when it ends: method, route (its pattern, bounded), status
 * (499 when the client left first), duration, trace and caller. The caller is
 * the client's address until API keys name callers (their records, issue 15).
 */
export function attachRequestLog(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    const { trace } = scopeOf(request);
    request.log = request.log.child({ trace_id: trace.traceId, span_id: trace.spanId });
    const start = process.hrtime.bigint();
    reply.raw.once("close", () => {
      const route = request.routeOptions.url ?? "unmatched";
      const line = {
        method: request.method,
        route,
        status: reply.raw.writableFinished ? reply.raw.statusCode : 499,
        durationMs: Number(process.hrtime.bigint() - start) / 1e6,
        caller: request.ip,
      };
      if (QUIET_ROUTES.has(route)) request.log.debug(line, "request");
      else request.log.info(line, "request");
    });
  });
}
