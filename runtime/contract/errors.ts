import { NatsError } from "../../nats/index.js";

/**
 * Wire errors: every failure that crosses an actor boundary is a ColmenaError
 * with a stable code. The same shape travels over NATS (see toWire/fromWire)
 * and is raised again on the caller's side, so callers switch on `code`.
 */

export const ERROR_CODES = [
  "INVALID", // the request is malformed: do not retry
  "NOT_FOUND", // no such actor, document, route
  "TIMEOUT", // the deadline passed before an answer
  "OVERLOADED", // a mailbox or queue is full: retry after retryAfterMs
  "UNAVAILABLE", // nothing can serve this now (no responders, circuit open)
  "CANCELLED", // the caller cancelled
  "TOO_LARGE", // a payload over the size guard
  "DECODE", // bytes that are not valid msgpack
  "CONFLICT", // a compare-and-set lost its race
  "INTERNAL", // a bug or an unexpected failure
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Codes a caller may retry without changing its request. */
const RETRYABLE: ReadonlySet<ErrorCode> = new Set(["TIMEOUT", "OVERLOADED", "UNAVAILABLE", "CONFLICT"]);

export interface ErrorOptions {
  retryable?: boolean;
  retryAfterMs?: number;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** The JSON/msgpack-safe form of a ColmenaError. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
  details?: Record<string, unknown>;
}

export class ColmenaError extends Error {
  override readonly name = "ColmenaError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? RETRYABLE.has(code);
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }

  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) wire.retryAfterMs = this.retryAfterMs;
    if (this.details !== undefined) wire.details = this.details;
    return wire;
  }

  /** A WireError as received; anything else that claims to be one is an INTERNAL "malformed error reply". Never throws. */
  static fromWire(wire: unknown): ColmenaError {
    if (!isWireError(wire)) return new ColmenaError("INTERNAL", "malformed error reply", { details: { reply: describeReply(wire) } });
    return new ColmenaError(wire.code, wire.message, {
      retryable: wire.retryable,
      ...(wire.retryAfterMs !== undefined && { retryAfterMs: wire.retryAfterMs }),
      ...(wire.details !== undefined && { details: wire.details }),
    });
  }

  /** Any thrown value as a ColmenaError; unknown errors become INTERNAL. */
  static from(err: unknown): ColmenaError {
    if (err instanceof ColmenaError) return err;
    if (err instanceof NatsError) {
      return new ColmenaError(err.code, err.message, {
        cause: err,
        ...(err.retryAfterMs !== undefined && { retryAfterMs: err.retryAfterMs }),
        ...(err.details !== undefined && { details: err.details }),
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    return new ColmenaError("INTERNAL", message, { cause: err });
  }
}

function isWireError(v: unknown): v is WireError {
  if (typeof v !== "object" || v === null) return false;
  const w = v as Record<string, unknown>;
  return (
    (ERROR_CODES as readonly unknown[]).includes(w.code) &&
    typeof w.message === "string" &&
    typeof w.retryable === "boolean" &&
    (w.retryAfterMs === undefined || (typeof w.retryAfterMs === "number" && Number.isFinite(w.retryAfterMs))) &&
    (w.details === undefined || (typeof w.details === "object" && w.details !== null && !Array.isArray(w.details)))
  );
}

/** What a malformed reply was, for the log: its type only (String() of a decoded map may throw, e.g. one with a `toString` key). */
function describeReply(v: unknown): string {
  if (v === null || typeof v !== "object") return typeof v === "string" ? v.slice(0, 200) : typeof v;
  return Array.isArray(v) ? "an array" : "a map";
}

/** A failure that carries its own code (a ColmenaError, or a NatsError from the layer below), as opposed to a crash. */
export const isTypedError = (err: unknown): err is ColmenaError | NatsError => err instanceof ColmenaError || err instanceof NatsError;

export const isColmenaError = (err: unknown, code?: ErrorCode): err is ColmenaError =>
  err instanceof ColmenaError && (code === undefined || err.code === code);

export const invalid = (message: string, details?: Record<string, unknown>) =>
  new ColmenaError("INVALID", message, details === undefined ? {} : { details });

export const overloaded = (message: string, retryAfterMs: number, details?: Record<string, unknown>) =>
  new ColmenaError("OVERLOADED", message, { retryAfterMs, ...(details !== undefined && { details }) });
