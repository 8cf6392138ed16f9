import type { Clock } from "../../supervisors/index.js";
import type { Logger } from "../observe/logger.js";
import type { Refs } from "./refs.js";
import type { CallScope } from "./scope.js";

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
