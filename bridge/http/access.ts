import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Authenticator } from "../auth/authenticator.js";
import { callerOf, setCaller, type Caller } from "../auth/caller.js";
import { permissionFor } from "../auth/roles.js";
import { EdgeRejection } from "../errors.js";
import type { ResolvedHttpOptions } from "./options.js";
import { RateLimiter, WINDOW_MS } from "./rate-limit.js";

export interface AccessParts {
  authenticator: Authenticator | undefined;
  /** Bridge nodes sharing the limits; each enforces limit / bridges. */
  bridges: () => number;
  /** Told every decision on a guarded route (the audit). */
  onDecision?: (request: FastifyRequest, decision: { caller: Caller | undefined; status: number; code?: string }) => void;
}

/**
 * Who may call /v1/* (and /metrics when `auth.metricsNeedAuth`) and how
 * often: the caller is authenticated (401), its role checked against the
 * route's permission (403), then its per-minute limit counted (429). /health,
 * /ready and /docs stay open.
 */
export function attachAccessControl(app: FastifyInstance, options: Readonly<ResolvedHttpOptions>, parts: AccessParts): void {
  const { authenticator, bridges, onDecision } = parts;
  const limits = options.rateLimit;
  const limiter = limits === undefined ? undefined : new RateLimiter({ maxClients: limits.maxClients }, options.clock);
  if (authenticator === undefined && limiter === undefined && onDecision === undefined) return;

  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0]!;
    if (!path.startsWith("/v1/") && !(path === "/metrics" && authenticator !== undefined && options.auth.metricsNeedAuth)) return;
    let caller: Caller | undefined;
    try {
      if (authenticator !== undefined) {
        caller = await authenticator.authenticate(request);
        setCaller(request, caller);
        const pattern = request.routeOptions.url;
        // An unmatched path only needs a known caller before its 404, so the 404 tells nothing to strangers.
        if (pattern !== undefined) authenticator.authorize(caller, permissionFor(request.method === "HEAD" ? "GET" : request.method, pattern));
      }
      if (limiter !== undefined) limit(limiter, callerOf(request), reply);
      onDecision?.(request, { caller, status: 200 });
    } catch (err) {
      if (err instanceof EdgeRejection) onDecision?.(request, { caller, status: err.code === "UNAUTHORIZED" ? 401 : err.code === "FORBIDDEN" ? 403 : 429, code: err.code });
      throw err;
    }
  });

  function limit(rateLimiter: RateLimiter, caller: Caller, reply: FastifyReply): void {
    const policy = caller.kind === "anonymous" ? limits!.anonymous : (limits!.tiers[caller.tier] ?? limits!.tiers.default);
    if (policy === undefined) return;
    const name = caller.kind === "anonymous" ? "anonymous" : caller.tier;
    const perNode = Math.max(1, policy.requestsPerMinute / Math.max(1, bridges()));
    const admission = rateLimiter.take(caller.id, perNode);
    // draft-ietf-httpapi-ratelimit-headers: the policy is the cluster's; what remains is this node's share.
    reply.header("ratelimit-policy", `"${name}";q=${policy.requestsPerMinute};w=${WINDOW_MS / 1000}`);
    if (!admission.ok) {
      reply.header("ratelimit", `"${name}";r=0;t=${Math.ceil(admission.retryAfterMs / 1000)}`);
      throw new EdgeRejection("RATE_LIMITED", `over ${policy.requestsPerMinute} requests per minute (tier ${name})`, admission.retryAfterMs);
    }
    reply.header("ratelimit", `"${name}";r=${admission.remaining};t=${Math.ceil(admission.resetMs / 1000)}`);
  }
}
