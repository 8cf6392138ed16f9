import type { FastifyRequest } from "fastify";
import type { CallerRole } from "./roles.js";

/**
 * Who a request comes from, once authenticated. `id` is what limits and the
 * audit count by: `key:<key id>`, `jwt:<subject>` or `ip:<address>`, never a
 * secret.
 */
export interface Caller {
  kind: "key" | "jwt" | "anonymous";
  id: string;
  /** Undefined for a caller that is known but holds no role (a JWT without the role claim). */
  role: CallerRole | undefined;
  tier: string;
}

const callers = new WeakMap<FastifyRequest, Caller>();

export function setCaller(request: FastifyRequest, caller: Caller): void {
  callers.set(request, caller);
}

/** The request's caller; anonymous by IP when nothing authenticated it (auth mode none, open routes). */
export function callerOf(request: FastifyRequest): Caller {
  return callers.get(request) ?? { kind: "anonymous", id: `ip:${request.ip}`, role: undefined, tier: "anonymous" };
}
