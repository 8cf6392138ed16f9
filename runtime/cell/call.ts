import type { Clock } from "../../supervisors/index.js";
import type { CallContext } from "../contract/call.js";
import { ColmenaError } from "../contract/errors.js";
import type { Refs } from "../contract/refs.js";
import type { Envelope } from "../delivery/envelope.js";
import type { Logger } from "../observe/logger.js";
import type { Span } from "../observe/tracing.js";
import { remainingMs } from "../time/deadline.js";
import { ScopedSignal } from "../time/scoped-signal.js";

/** What a call needs of the cell that runs it. */
export interface CallHost {
  readonly name: string;
  readonly clock: Clock;
  readonly log: Logger;
  readonly refs: Refs;
}

/**
 * The context of one message: its envelope's deadline and trace, and what is
 * made from them only when the handler asks (the signal, the logger, the
 * refs bound to the call), so a handler that needs none of them costs one
 * small object.
 */
export class Call implements CallContext {
  readonly #host: CallHost;
  readonly #env: Envelope;
  #signal: ScopedSignal | undefined;
  #log: Logger | undefined;
  #refs: Refs | undefined;
  /** performance.now() when the handler started, for the messages the cell times (one in 16): what the handle-duration histogram measures from. */
  startedAt: number | undefined;
  /** The message's consumer span, while tracing is enabled: the call's trace, which its own sends continue. */
  span: Span | undefined;

  constructor(host: CallHost, env: Envelope) {
    this.#host = host;
    this.#env = env;
  }

  get trace() {
    return this.span === undefined ? this.#env.trace : this.span.spanContext();
  }

  get deadline() {
    return this.#env.deadline;
  }

  get clock(): Clock {
    return this.#host.clock;
  }

  remainingMs(): number {
    return remainingMs(this.#host.clock, this.#env.deadline);
  }

  get signal(): AbortSignal {
    const env = this.#env;
    this.#signal ??= new ScopedSignal(this.#host.clock, this.remainingMs(), () => new ColmenaError("TIMEOUT", `${this.#host.name}.${env.msg.type} passed its deadline`), env.stream ? [env.stream.signal] : []);
    return this.#signal.signal;
  }

  get refs(): Refs {
    this.#refs ??= this.#host.refs.within(this);
    return this.#refs;
  }

  get log(): Logger {
    // Under a span the node's logger takes the ids from the active context (logger.ts), on this logger's lines and every other's.
    const trace = this.span === undefined ? this.#env.trace : undefined;
    this.#log ??= this.#host.log.child({ msgType: this.#env.msg.type, ...(trace && { trace_id: trace.traceId, span_id: trace.spanId }) });
    return this.#log;
  }

  /** The message is answered (or its stream ended): the signal's timer and listeners go. */
  dispose(): void {
    this.#signal?.dispose();
  }
}
