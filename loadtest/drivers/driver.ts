/**
 * A driver sends one request of the workload over a public interface (HTTP,
 * the NATS service API, or an in-process function in tests) and says how it
 * went. It never throws for an answer: failures are outcomes too.
 */
export type Operation = "query" | "ingest";

export interface QueryBody {
  question: string;
  session_id?: string;
  top_k?: number;
}

export interface IngestBody {
  documents: Array<{ id: string; text: string; metadata?: Record<string, string | number | boolean> }>;
}

export type Request = { op: "query"; body: QueryBody } | { op: "ingest"; body: IngestBody };

export interface Outcome {
  /**
   * What results are grouped by: the status number for an answer from the
   * server ("200", "429 OVERLOADED", "503 UNAVAILABLE", "504 TIMEOUT" — the
   * NATS API reports the same numbers in `Nats-Service-Error-Code`), or
   * "client …" for what went wrong on this side ("client timeout",
   * "client ECONNREFUSED", "client no responders").
   */
  code: string;
  ok: boolean;
  /** Refused by the server's documented load shedding: 429 or 503. */
  shed: boolean;
  /** A retry hint came with it: `Retry-After` (HTTP) or `retry_after_ms` (NATS). */
  retryHint: boolean;
  /** For a successful query: whether the answer came from the cache. */
  cached?: boolean;
}

export interface Driver {
  readonly name: string;
  send(request: Request, signal: AbortSignal): Promise<Outcome>;
  /** Removes a document this run ingested (clean-up of a shared target); false when it was not there. */
  remove(id: string): Promise<boolean>;
  close(): Promise<void>;
}

/** 429 and 503 are the documented shed answers (OVERLOADED, RATE_LIMITED, UNAVAILABLE). */
export const isShedStatus = (status: number) => status === 429 || status === 503;

export const answered = (status: number, errorCode: string | undefined, extra: { retryHint: boolean; cached?: boolean }): Outcome => ({
  code: errorCode && !(status >= 200 && status < 300) ? `${status} ${errorCode}` : String(status),
  ok: status >= 200 && status < 300,
  shed: isShedStatus(status),
  retryHint: extra.retryHint,
  ...(extra.cached !== undefined && { cached: extra.cached }),
});

/** A failure on the client's side: no answer from the server. */
export const clientFailure = (what: string): Outcome => ({ code: `client ${what}`, ok: false, shed: false, retryHint: false });

/** A short stable name for a thrown error: its code (ECONNREFUSED, UND_ERR_…) or name. */
export function errorName(err: unknown): string {
  if (err && typeof err === "object") {
    const e = err as { code?: unknown; name?: unknown; cause?: unknown };
    if (typeof e.code === "string" && e.code) return e.code;
    if (e.cause) {
      const inner = errorName(e.cause);
      if (inner !== "error") return inner;
    }
    if (typeof e.name === "string" && e.name && e.name !== "Error") return e.name;
  }
  return "error";
}
