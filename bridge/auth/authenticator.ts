import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyRequest } from "fastify";
import type { Clock, Logger } from "../../runtime/index.js";
import { EdgeRejection } from "../errors.js";
import { usesJwt, usesKeys, type AuthOptions } from "./auth-options.js";
import type { Caller } from "./caller.js";
import { KEY_PREFIX } from "./key-records.js";
import { KeyRegistry } from "./key-store.js";
import { JwtVerifier } from "./jwt-verifier.js";
import { grants, type Permission } from "./roles.js";

/**
 * Turns a request's credential into a Caller (401 UNAUTHORIZED when there is
 * none, it is malformed, or it does not check out) and decides whether the
 * caller's role has a route's permission (403 FORBIDDEN when it does not).
 * Credentials: `Authorization: Bearer <key or JWT>` or `X-API-Key: <key>`.
 */
export class Authenticator {
  readonly keys: KeyRegistry | undefined;
  readonly #jwt: JwtVerifier | undefined;
  readonly #clock: Clock;

  constructor(parts: { keys?: KeyRegistry; jwt?: JwtVerifier; clock: Clock }) {
    this.keys = parts.keys;
    this.#jwt = parts.jwt;
    this.#clock = parts.clock;
  }

  async authenticate(request: FastifyRequest): Promise<Caller> {
    const credential = credentialOf(request);
    if (credential === undefined) throw unauthorized("credentials are required: Authorization: Bearer <key or token>, or X-API-Key");
    if (credential === "malformed") throw unauthorized("the Authorization header is not `Bearer <credential>`");
    if (this.keys !== undefined && credential.startsWith(KEY_PREFIX)) {
      const check = this.keys.check(credential, this.#clock.now());
      if (!check.ok) throw unauthorized(`the API key is ${check.reason === "malformed" || check.reason === "unknown" ? "not valid" : check.reason}`);
      return { kind: "key", id: `key:${check.record.id}`, role: check.record.role, tier: check.record.tier };
    }
    if (this.#jwt !== undefined && credential.split(".").length === 3) {
      const check = await this.#jwt.verify(credential);
      if (!check.ok) throw unauthorized(check.reason);
      return { kind: "jwt", id: `jwt:${check.subject}`, role: check.role, tier: check.tier };
    }
    throw unauthorized("the credential is not valid");
  }

  /** Throws FORBIDDEN unless the caller's role grants the permission. */
  authorize(caller: Caller, permission: Permission): void {
    if (caller.role === undefined || !grants(caller.role, permission)) {
      throw new EdgeRejection("FORBIDDEN", `${caller.role ?? "a caller without a role"} may not do this (it needs ${permission})`);
    }
  }

  stop(): void {
    this.keys?.stop();
  }
}

/** The authenticator the options ask for: undefined for mode `none`; keys watched in the namespace's bucket, the JWKS loaded. */
export async function createAuthenticator(auth: AuthOptions, deps: { nc: NatsConnection; namespace: string; log: Logger; clock: Clock }): Promise<Authenticator | undefined> {
  if (auth.mode === "none") return undefined;
  const keys = usesKeys(auth) ? await KeyRegistry.watch(deps.nc, deps.namespace, deps.log) : undefined;
  const jwt = usesJwt(auth) ? await JwtVerifier.create(auth.jwt!) : undefined;
  return new Authenticator({ ...(keys && { keys }), ...(jwt && { jwt }), clock: deps.clock });
}

function credentialOf(request: FastifyRequest): string | "malformed" | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer +(\S+) *$/i.exec(auth);
    return m ? m[1]! : "malformed";
  }
  const header = request.headers["x-api-key"];
  return typeof header === "string" && header.length > 0 ? header : undefined;
}

const unauthorized = (message: string) => new EdgeRejection("UNAUTHORIZED", message);
