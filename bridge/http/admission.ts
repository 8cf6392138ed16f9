import type { FastifyInstance } from "fastify";
import { EdgeRejection } from "../errors.js";
import { AdaptiveLimit, type AdaptiveLimitOptions } from "./adaptive-limit.js";
import { onceEnded } from "./request-end.js";

/**
 * Load shedding at the edge: the work routes (POST /v1/*) pass an adaptive
 * concurrency limit; above it a request is answered 429 OVERLOADED with
 * Retry-After before its body is read, so an overloaded node answers the
 * excess at once and keeps latency for what it admits.
 *
 * This hook owns the slot from the moment it takes it: it gives it back
 * when the response ends, whichever way that happens (answered, failed,
 * timed out, or the client gone before, during or after its body). Fastify's
 * onResponse is not that moment: it runs only for a response that finished.
 */
export function attachAdmission(app: FastifyInstance, options: AdaptiveLimitOptions): AdaptiveLimit {
  const limit = new AdaptiveLimit(options);
  app.addHook("onRequest", async (request, reply) => {
    if (request.method !== "POST" || !request.url.startsWith("/v1/")) return;
    if (!limit.tryAcquire()) throw new EdgeRejection("OVERLOADED", `this node is at its concurrency limit (${limit.limit}); retry shortly`, limit.retryAfterMs());
    const since = performance.now();
    onceEnded(reply, (finished) => (finished ? limit.release(performance.now() - since) : limit.abandon()));
  });
  return limit;
}
