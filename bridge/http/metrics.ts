import type { FastifyInstance } from "fastify";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import { onceEnded } from "./request-end.js";

const LABELS = ["method", "route", "status"] as const;

/**
 * The bridge's Prometheus metrics: requests and their latency by route
 * (the route's pattern, `unmatched` for 404s, so cardinality stays bounded)
 * and status (499 when the client left before the answer was finished),
 * and requests in flight. /metrics shows them beside the figures of the
 * bridge's own thread (`nodeMetrics`) and of the node's actor threads
 * (`HttpBridgeConfig.threadMetrics`), merged into one exposition.
 */
export function attachMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({ name: "colmena_http_requests_total", help: "HTTP requests answered, by route and status", labelNames: LABELS, registers: [registry] });
  const latency = new Histogram({
    name: "colmena_http_request_duration_seconds",
    help: "HTTP request latency from arrival to the last byte, by route and status",
    labelNames: LABELS,
    // From 1 ms: a refused request (429) is answered before its body is read, far sooner than any answer, and the low buckets should show how soon.
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const inFlight = new Gauge({ name: "colmena_http_requests_in_flight", help: "HTTP requests being served", registers: [registry] });

  app.addHook("onRequest", async (request, reply) => {
    inFlight.inc();
    const start = process.hrtime.bigint();
    onceEnded(reply, (finished) => {
      inFlight.dec();
      const labels = {
        method: request.method,
        route: request.routeOptions.url ?? "unmatched",
        status: String(finished ? reply.raw.statusCode : 499),
      };
      requests.inc(labels);
      latency.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
  });
}
