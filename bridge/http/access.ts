import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AuditEvent, AuditLog } from "../auth/audit-log.js";
import type { Authenticator } from "../auth/authenticator.js";
import { callerOf, setCaller, type Caller } from "../auth/caller.js";
import { permissionFor, type Permission } from "../auth/roles.js";
import { EdgeRejection, toEdgeError } from "../errors.js";
import type { ResolvedHttpOptions } from "./options.js";
import { RateLimiter, WINDOW_MS } from "./rate-limit.js";
import { scopeOf } from "./request-scope.js";
import { setTokenBudget } from "./token-budget.js";

export interface AccessParts {
  authenticator: Authenticator | undefined;
  /** Bridge nodes sharing the limits; each enforces limit / bridges. */
  bridges: () => number;
  audit: AuditLog | undefined;
}

/**
 * Who may call /v1/* (and /metrics when `auth.metricsNeedAuth`) and how
 * often: the caller is authenticated (401), its role checked against the
 * route's permission (403), then its per-minute limits counted (429: requests
 * here, generated tokens as the answer is made, token-budget.ts). /health,
 * /ready and /docs stay open. Each decision goes to the audit: a refusal at
 * once, an admission with the status it was finally answered.
 */
export function attachAccessControl(app: FastifyInstance, options: Readonly<ResolvedHttpOptions>, parts: AccessParts): void {
  const { authenticator, bridges, audit } = parts;
  const limits = options.rateLimit;
  const limiter = limits === undefined ? undefined : new RateLimiter({ maxClients: limits.maxClients }, options.clock);
  const tokens = limits === undefined ? undefined : new RateLimiter({ maxClients: limits.maxClients }, options.clock);
  if (authenticator === undefined && limiter === undefined && audit === undefined) return;
  const admitted = new WeakMap<FastifyRequest, Permission | undefined>();

  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?")[0]!;
    if (!path.startsWith("/v1/") && !(path === "/metrics" && authenticator !== undefined && options.auth.metricsNeedAuth)) return;
    let caller: Caller | undefined;
    const pattern = request.routeOptions.url;
    // An unmatched path only needs a known caller before its 404, so the 404 tells nothing to strangers.
    const permission = pattern === undefined ? undefined : permissionFor(request.method === "HEAD" ? "GET" : request.method, pattern);
    try {
      if (authenticator !== undefined) {
        caller = await authenticator.authenticate(request);
        setCaller(request, caller);
        if (permission !== undefined) authenticator.authorize(caller, permission);
      }
      if (limiter !== undefined) limit(limiter, tokens!, callerOf(request), request, reply);
      admitted.set(request, permission);
    } catch (err) {
      const answer = toEdgeError(err);
      audit?.record({ ...eventOf(request, caller, "auth", false), status: answer.status, code: answer.body.error.code, reason: answer.body.error.message });
      throw err;
    }
  });

  if (audit !== undefined) {
    app.addHook("onResponse", async (request, reply) => {
      if (!admitted.has(request)) return;
      const kind = admitted.get(request) === "admin" ? "admin" : "auth";
      audit.record({ ...eventOf(request, callerOf(request), kind, true), status: reply.statusCode });
    });
  }

  function limit(requests: RateLimiter, tokens: RateLimiter, caller: Caller, request: FastifyRequest, reply: FastifyReply): void {
    const policy = caller.kind === "anonymous" ? limits!.anonymous : (limits!.tiers[caller.tier] ?? limits!.tiers.default);
    if (policy === undefined) return;
    const name = caller.kind === "anonymous" ? "anonymous" : caller.tier;
    const share = Math.max(1, bridges());
    if (policy.requestsPerMinute !== undefined) {
      const admission = requests.take(caller.id, Math.max(1, policy.requestsPerMinute / share));
      // draft-ietf-httpapi-ratelimit-headers: the policy is the cluster's; what remains is this node's share.
      reply.header("ratelimit-policy", `"${name}";q=${policy.requestsPerMinute};w=${WINDOW_MS / 1000}`);
      if (!admission.ok) {
        reply.header("ratelimit", `"${name}";r=0;t=${Math.ceil(admission.retryAfterMs / 1000)}`);
        throw new EdgeRejection("RATE_LIMITED", `over ${policy.requestsPerMinute} requests per minute (tier ${name})`, admission.retryAfterMs);
      }
      reply.header("ratelimit", `"${name}";r=${admission.remaining};t=${Math.ceil(admission.resetMs / 1000)}`);
    }
    if (policy.tokensPerMinute !== undefined) {
      const limit = Math.max(1, policy.tokensPerMinute / share);
      const room = tokens.check(caller.id, limit);
      if (!room.ok) throw new EdgeRejection("RATE_LIMITED", `over ${policy.tokensPerMinute} generated tokens per minute (tier ${name})`, room.retryAfterMs);
      setTokenBudget(request, { limit: policy.tokensPerMinute, charge: (n) => tokens.charge(caller.id, limit, n) });
    }
  }
}

/** The request's side of an audit event: who, from where, what; never its credential. */
export function eventOf(request: FastifyRequest, caller: Caller | undefined, kind: AuditEvent["kind"], allowed: boolean): Omit<AuditEvent, "at" | "node"> {
  return {
    kind,
    allowed,
    ...(caller !== undefined && { caller: caller.id }),
    ...(caller?.role !== undefined && { role: caller.role }),
    ip: request.ip,
    method: request.method,
    route: request.routeOptions.url ?? request.url.split("?")[0]!.slice(0, 200),
    trace: scopeOf(request).trace.traceId,
  };
}
