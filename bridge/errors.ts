import { ColmenaError, type ErrorCode } from "../runtime/index.js";

/**
 * How wire errors look at the edge. HTTP and the NATS service API answer
 * with the same `{error: {code, message}}` body and the same status number
 * (HTTP status, `Nats-Service-Error-Code`). The edge adds three codes of its
 * own that never cross an actor boundary.
 */
export type EdgeErrorCode = ErrorCode | "UNAUTHORIZED" | "FORBIDDEN" | "RATE_LIMITED";

export interface ErrorBody {
  error: { code: EdgeErrorCode; message: string };
}

/** An answer to a failed request: status, body and headers (Retry-After where it applies). */
export interface EdgeError {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** The error is ours (5xx, not a timeout or shed load): worth a log line with its stack. */
  unexpected: boolean;
}

const STATUS: Partial<Record<EdgeErrorCode, number>> = {
  INVALID: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  TOO_LARGE: 413,
  OVERLOADED: 429,
  RATE_LIMITED: 429,
  CANCELLED: 499, // nginx's "client closed request": nobody reads it, but logs and metrics do
  UNAVAILABLE: 503,
  TIMEOUT: 504,
};

/** Codes whose answer carries Retry-After (seconds), from retryAfterMs or 1 s. */
const RETRY_AFTER: ReadonlySet<EdgeErrorCode> = new Set(["OVERLOADED", "RATE_LIMITED", "UNAVAILABLE"]);

/** The status for a code: INVALID 400 … TIMEOUT 504; DECODE, CONFLICT, INTERNAL and anything unknown 500. */
export function statusOf(code: EdgeErrorCode): number {
  return STATUS[code] ?? 500;
}

/** Whole seconds for a Retry-After header: the ceiling of the hint, at least 1. */
export function retryAfterSeconds(retryAfterMs: number | undefined): number {
  if (retryAfterMs === undefined || !Number.isFinite(retryAfterMs) || retryAfterMs <= 0) return 1;
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/** An error the edge raises itself with one of its own codes. */
export class EdgeRejection extends Error {
  override readonly name = "EdgeRejection";
  constructor(
    readonly code: "UNAUTHORIZED" | "FORBIDDEN" | "RATE_LIMITED" | "OVERLOADED",
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export function edgeError(code: EdgeErrorCode, message: string, retryAfterMs?: number): EdgeError {
  const status = statusOf(code);
  const headers: Record<string, string> = {};
  if (RETRY_AFTER.has(code)) headers["retry-after"] = String(retryAfterSeconds(retryAfterMs));
  return { status, body: { error: { code, message } }, headers, unexpected: status === 500 };
}

/**
 * Any thrown value as an answer. ColmenaErrors keep their code and message
 * (they are written to cross the wire); anything else is an INTERNAL error
 * whose message and stack stay in the log.
 */
export function toEdgeError(err: unknown): EdgeError {
  if (err instanceof EdgeRejection) return edgeError(err.code, err.message, err.retryAfterMs);
  if (err instanceof ColmenaError) return edgeError(err.code, err.message, err.retryAfterMs);
  return edgeError("INTERNAL", "internal error");
}
