import { z } from "zod";
import { responseSchema } from "../json-schema.js";

const ErrorShape = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const error = (description: string) => ({ description, ...responseSchema(ErrorShape) });

/** The error answers a /v1 route documents beside its success answer. */
export function errorResponses(...statuses: number[]): Record<number, Record<string, unknown>> {
  const all: Record<number, Record<string, unknown>> = {
    400: error("invalid request: malformed JSON, invalid UTF-8, wrong types"),
    401: error("missing, malformed, unknown, revoked or expired credentials (when auth is on)"),
    403: error("the caller's role lacks this route's permission"),
    404: error("no such document, route or model"),
    413: error("body over the size limit"),
    429: error("shedding load or rate-limited: retry after the Retry-After header"),
    499: error("the client closed the connection"),
    500: error("internal error"),
    503: error("nothing can serve this now: retry after the Retry-After header"),
    504: error("the request's deadline passed"),
  };
  const wanted = [400, 401, 403, 429, 500, 503, 504, ...statuses];
  return Object.fromEntries(wanted.map((s) => [s, all[s]!]));
}
