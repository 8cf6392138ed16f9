import type { TraceContext } from "../observe/trace.js";

/**
 * What a request brings with it, however far it travels: its deadline (ms on
 * the node's clock; Infinity when nobody waits), its trace, and optionally a
 * signal that aborts when the caller gives up. An edge (the HTTP bridge, the
 * NATS service) opens one per request; every hop continues it.
 */
export interface CallScope {
  readonly deadline: number;
  readonly trace: TraceContext | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** How one send departs from the scope it is made in. */
export interface CallOptions {
  /** An earlier deadline than the scope's (ms on the node's clock), e.g. to keep time back for a reply. */
  deadline?: number;
  /** The same, relative: at most this many ms from now. */
  timeoutMs?: number;
  /** A trace to continue instead of the scope's. */
  trace?: TraceContext;
}
