import { z } from "zod";

/**
 * JWS algorithms a JWKS of public keys can verify. HMAC (HS*) is not among
 * them: a token "signed" with the public key as an HMAC secret is the
 * classic confusion attack, and `none` is no signature at all, so neither
 * can be put on the allow-list.
 */
export const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

export const JwtOptionsSchema = z.strictObject({
  /** A JWKS: a file path, or an https:// (or http:// on loopback) URL fetched and cached. */
  jwks: z.string().min(1),
  issuer: z.string().min(1),
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  algorithms: z.array(z.enum(ASYMMETRIC_ALGORITHMS)).min(1).default(["RS256", "ES256", "EdDSA"]),
  /** Seconds of clock skew allowed on exp and nbf. */
  clockToleranceSec: z.number().min(0).max(300).default(30),
  /** Claim holding the caller's role (reader, writer, admin); a token without one is known but may do nothing. */
  roleClaim: z.string().min(1).default("role"),
  /** Claim holding the caller's rate-limit tier (else `default`). */
  tierClaim: z.string().min(1).default("tier"),
  /** How long a fetched JWKS is used before it is fetched again (ms). */
  jwksCacheMs: z.int().min(1_000).default(600_000),
});
export type JwtOptions = z.output<typeof JwtOptionsSchema>;

/**
 * Who may call /v1/*: `none` (anyone; only on loopback unless the node is
 * started `--insecure`), `keys` (API-key records in NATS KV), `jwt`, or
 * `both`. `/health` and `/ready` are always open; `/metrics` needs an admin
 * when `metricsNeedAuth`.
 */
export const AuthOptionsSchema = z
  .strictObject({
    mode: z.enum(["none", "keys", "jwt", "both"]).default("none"),
    metricsNeedAuth: z.boolean().default(false),
    jwt: JwtOptionsSchema.optional(),
    /**
     * The audit stream (bridge/auth/audit-log.ts): on by default when auth
     * is; its events are kept `maxAgeMs` (30 days) and at most `maxBytes`.
     */
    audit: z
      .strictObject({
        enabled: z.boolean().optional(),
        maxAgeMs: z.int().min(60_000).default(30 * 24 * 3_600_000),
        maxBytes: z.int().min(1_024).optional(),
      })
      .prefault({}),
  })
  .refine((a) => (a.mode !== "jwt" && a.mode !== "both") || a.jwt !== undefined, { message: "mode jwt or both needs the jwt settings", path: ["jwt"] });
export type AuthOptions = z.output<typeof AuthOptionsSchema>;

export const usesKeys = (auth: AuthOptions) => auth.mode === "keys" || auth.mode === "both";
export const usesJwt = (auth: AuthOptions) => auth.mode === "jwt" || auth.mode === "both";
export const auditsAccess = (auth: AuthOptions) => auth.audit.enabled ?? auth.mode !== "none";
