import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { EdgeRejection } from "../errors.js";

/**
 * API-key check for /v1/*: `Authorization: Bearer <key>` (what OpenAI
 * clients send) or `X-API-Key: <key>`. Keys are compared as SHA-256 digests
 * in constant time, so neither their length nor a prefix leaks by timing.
 */
export class ApiKeys {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map(digest);
  }

  /** The key the request presents, once verified; throws UNAUTHORIZED otherwise. */
  verify(request: FastifyRequest): string {
    const key = presentedKey(request);
    if (key === undefined) throw new EdgeRejection("UNAUTHORIZED", "an API key is required: Authorization: Bearer <key> or X-API-Key");
    const d = digest(key);
    let match = false;
    for (const known of this.#digests) match = timingSafeEqual(known, d) || match;
    if (!match) throw new EdgeRejection("UNAUTHORIZED", "the API key is not valid");
    return key;
  }
}

/** The key a request carries, verified or not (also what the rate limiter counts by). */
export function presentedKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === "string") {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  const header = request.headers["x-api-key"];
  return typeof header === "string" && header.length > 0 ? header : undefined;
}

const digest = (key: string) => createHash("sha256").update(key).digest();
