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
  /**
   * A keyed ask or stream whose key's owner is lost (its node is still
   * announced, its lease not lapsed, but nothing listens on that node's
   * activation subject any more: its connection is gone): `"wait"` (the
   * default) waits, within the deadline, for the lease to lapse and the key
   * to come back on a survivor with its state; `"fail"` fails at once with a
   * retryable UNAVAILABLE (`details.ownerLost`, the node), for a caller that
   * has somewhere else to go (another replica). Ignored by tells and pooled
   * sends.
   */
  ownerLost?: OwnerLost;
}

export type OwnerLost = "wait" | "fail";
