import type { FastifyRequest } from "fastify";
import { endSpan, SpanKind, startSpan, type TraceContext } from "../../runtime/index.js";

/** One request's HTTP server span: its trace is the request's, which every actor hop behind it continues. */
export interface ServerSpan {
  readonly trace: TraceContext;
  /** With the status it was answered with (499: the client left first) and, when it failed, its error code. */
  end(status: number, errorCode: string | undefined): void;
}

/**
 * Named and attributed as the HTTP semantic conventions say
 * (https://opentelemetry.io/docs/specs/semconv/http/http-spans/): the
 * method and the route's pattern, never the raw path, so names stay
 * bounded. A failure sets `error.type` to its code; a 5xx also sets the
 * span's status to error (a 4xx is the client's, not the server's).
 */
export function serverSpan(request: FastifyRequest, parent: TraceContext | undefined): ServerSpan {
  const route = request.routeOptions.url;
  const span = startSpan(route === undefined ? request.method : `${request.method} ${route}`, SpanKind.SERVER, parent, () => ({
    "http.request.method": request.method,
    "url.path": request.url.split("?")[0]!.slice(0, 200),
    "url.scheme": request.protocol,
    ...(route !== undefined && { "http.route": route }),
  }));
  return {
    trace: span.spanContext(),
    end(status, errorCode) {
      span.setAttribute("http.response.status_code", status);
      if (errorCode !== undefined) span.setAttribute("error.type", errorCode);
      if (status >= 500) endSpan(span, Object.assign(new Error(errorCode ?? String(status)), { code: errorCode ?? String(status) }));
      else span.end();
    },
  };
}
