import { readFile } from "node:fs/promises";
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { ColmenaError } from "../../runtime/index.js";
import type { JwtOptions } from "./auth-options.js";
import { CALLER_ROLES, type CallerRole } from "./roles.js";

export type JwtCheck = { ok: true; subject: string; role: CallerRole | undefined; tier: string } | { ok: false; reason: string };

/** Bearer JWTs checked with jose: signature by a key of the JWKS, an allowed algorithm, issuer, audience, exp and nbf. */
export class JwtVerifier {
  readonly #keys: JWTVerifyGetKey;
  readonly #options: JwtOptions;
  readonly #remote: boolean;

  private constructor(keys: JWTVerifyGetKey, options: JwtOptions, remote = false) {
    this.#keys = keys;
    this.#options = options;
    this.#remote = remote;
  }

  /** Reads the JWKS file (a bad one stops start-up) or prepares the URL's (fetched on first use, then cached). */
  static async create(options: JwtOptions): Promise<JwtVerifier> {
    if (/^https?:\/\//.test(options.jwks)) {
      return new JwtVerifier(createRemoteJWKSet(new URL(options.jwks), { cacheMaxAge: options.jwksCacheMs }), options, true);
    }
    let set: JSONWebKeySet;
    try {
      set = JSON.parse(await readFile(options.jwks, "utf8")) as JSONWebKeySet;
      const keys = createLocalJWKSet(set);
      if (set.keys.some((k) => k.kty === "oct")) throw new Error("it holds a symmetric (oct) key; only public keys verify tokens here");
      return new JwtVerifier(keys, options);
    } catch (err) {
      throw new ColmenaError("INVALID", `bad http.auth.jwt.jwks ${options.jwks}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** The token's subject, role and tier, or why it is refused; UNAVAILABLE when a JWKS URL cannot be fetched (no token is judged then). */
  async verify(token: string): Promise<JwtCheck> {
    const o = this.#options;
    try {
      const { payload } = await jwtVerify(token, this.#keys, {
        issuer: o.issuer,
        audience: o.audience,
        algorithms: [...o.algorithms],
        clockTolerance: o.clockToleranceSec,
        requiredClaims: ["sub", "exp"],
      });
      const role = payload[o.roleClaim];
      const tier = payload[o.tierClaim];
      return {
        ok: true,
        subject: payload.sub!,
        role: (CALLER_ROLES as readonly unknown[]).includes(role) ? (role as CallerRole) : undefined,
        tier: typeof tier === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(tier) ? tier : "default",
      };
    } catch (err) {
      if (this.#remote && unreachable(err)) {
        throw new ColmenaError("UNAVAILABLE", "the JWKS could not be fetched to verify the token", { cause: err, retryAfterMs: 1_000 });
      }
      return { ok: false, reason: reasonOf(err) };
    }
  }
}

/** A fetch that failed or timed out (jose raises its generic error for a non-200 answer, and lets network errors through). */
const unreachable = (err: unknown) => err instanceof errors.JWKSTimeout || !(err instanceof errors.JOSEError) || err.code === "ERR_JOSE_GENERIC";

/** A short, secret-free reason for the audit and the 401's message. */
function reasonOf(err: unknown): string {
  if (err instanceof errors.JWTExpired) return "the token has expired";
  if (err instanceof errors.JWTClaimValidationFailed) return `claim ${err.claim} is not valid`;
  if (err instanceof errors.JOSEAlgNotAllowed) return "the token's algorithm is not allowed";
  if (err instanceof errors.JWSSignatureVerificationFailed) return "the token's signature is not valid";
  if (err instanceof errors.JWKSNoMatchingKey) return "no key of the JWKS matches the token";
  return "the token is not valid";
}
