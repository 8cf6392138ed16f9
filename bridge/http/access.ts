import type { FastifyInstance } from "fastify";
import { EdgeRejection } from "../errors.js";
import { ApiKeys } from "./api-keys.js";
import type { ResolvedHttpOptions } from "./options.js";
import { RateLimiter } from "./rate-limit.js";

/**
 * Who may call /v1/* and how often: the API key check (when keys are
 * configured) and then the rate limit, counted per key, else per client IP.
 * /health, /ready, /metrics and /docs stay open.
 */
export function attachAccessControl(app: FastifyInstance, options: Readonly<ResolvedHttpOptions>): void {
  const keys = options.apiKeys === undefined ? undefined : new ApiKeys(options.apiKeys);
  const limiter = options.rateLimit === undefined ? undefined : new RateLimiter(options.rateLimit, options.clock);
  if (keys === undefined && limiter === undefined) return;
  app.addHook("onRequest", async (request) => {
    if (!request.url.startsWith("/v1/")) return;
    const key = keys?.verify(request);
    if (limiter === undefined) return;
    const admission = limiter.take(key === undefined ? `ip:${request.ip}` : `key:${key}`);
    if (!admission.ok) throw new EdgeRejection("RATE_LIMITED", "too many requests from this client", admission.retryAfterMs);
  });
}
