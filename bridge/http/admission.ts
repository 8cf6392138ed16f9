import type { FastifyInstance, FastifyRequest } from "fastify";
import { EdgeRejection } from "../errors.js";
import { AdaptiveLimit, type AdaptiveLimitOptions } from "./adaptive-limit.js";

const admitted = new WeakMap<FastifyRequest, number>();

/**
 * Load shedding at the edge: the work routes (POST /v1/*) pass an adaptive
 * concurrency limit; above it a request is answered 429 OVERLOADED with
 * Retry-After before its body is read, so an overloaded node answers the
 * excess at once and keeps latency for what it admits.
 */
export function attachAdmission(app: FastifyInstance, options: AdaptiveLimitOptions): AdaptiveLimit {
  const limit = new AdaptiveLimit(options);
  app.addHook("onRequest", async (request) => {
    if (request.method !== "POST" || !request.url.startsWith("/v1/")) return;
    if (!limit.tryAcquire()) throw new EdgeRejection("OVERLOADED", `this node is at its concurrency limit (${limit.limit}); retry shortly`, limit.retryAfterMs());
    admitted.set(request, performance.now());
  });
  app.addHook("onResponse", async (request) => {
    const since = admitted.get(request);
    if (since === undefined) return;
    admitted.delete(request);
    limit.release(performance.now() - since);
  });
  return limit;
}
