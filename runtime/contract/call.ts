import type { Clock } from "../../supervisors/index.js";
import type { Logger } from "../observe/logger.js";
import type { TraceContext } from "../observe/trace.js";
import type { Refs } from "./refs.js";

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

/**
 * What a handler sees of the message it is handling: the call's scope, the
 * node's clock, a logger with the message type and trace id, and refs bound
 * to the call, so `call.refs.pool(Kind).ask(msg)` inherits the remaining
 * deadline and the trace.
 */
export interface CallContext extends CallScope {
  /** Aborted when the deadline passes or the caller cancels (streams). */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly log: Logger;
  readonly refs: Refs;
  /** Milliseconds left before the deadline (0 when it has passed; Infinity for a tell). */
  remainingMs(): number;
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
