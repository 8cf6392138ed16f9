/**
 * Failures of the NATS layer: a connection that cannot be made, bytes that
 * are not msgpack, a payload over the size guard, a JetStream call that
 * failed. The code is one of the runtime's wire codes, so the runtime turns
 * a NatsError into its own typed error (ColmenaError.from) without guessing.
 */
export const NATS_ERROR_CODES = ["INVALID", "DECODE", "TOO_LARGE", "UNAVAILABLE", "TIMEOUT"] as const;

export type NatsErrorCode = (typeof NATS_ERROR_CODES)[number];

export interface NatsErrorOptions {
  retryAfterMs?: number;
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class NatsError extends Error {
  override readonly name = "NatsError";
  readonly code: NatsErrorCode;
  readonly retryAfterMs: number | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: NatsErrorCode, message: string, options: NatsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterMs = options.retryAfterMs;
    this.details = options.details;
  }
}

export const isNatsError = (err: unknown, code?: NatsErrorCode): err is NatsError =>
  err instanceof NatsError && (code === undefined || err.code === code);
