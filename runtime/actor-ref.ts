import type { ActorKind, Behavior, ChunkOf, MessageOf, MessageSchemas, ReplyOf } from "./actor-def.js";
import type { ActorStream } from "./actor-stream.js";
import type { Router } from "./router.js";
import { currentTrace, newTrace, type TraceContext } from "./trace.js";

export interface CallOptions {
  /** How long the caller waits; travels with the message as its deadline. */
  timeoutMs?: number;
  /** Trace to continue; inside a handler the handler's own trace is used. */
  trace?: TraceContext;
}

/**
 * The address of an actor, pooled (any instance of the kind) or keyed (the
 * one activation of kind/key). Where the actor runs is the router's concern;
 * the semantics are the same on this node and across NATS.
 */
export class ActorRef<M extends MessageSchemas = MessageSchemas, B extends Behavior<M> = Behavior<M>> {
  readonly kind: ActorKind<M, B>;
  readonly key: string | undefined;
  readonly #router: Router;
  readonly #defaultTimeoutMs: number;

  constructor(router: Router, kind: ActorKind<M, B>, key: string | undefined, defaultTimeoutMs: number) {
    this.#router = router;
    this.kind = kind;
    this.key = key;
    this.#defaultTimeoutMs = defaultTimeoutMs;
  }

  /** Fire-and-forget: at most once; refusals are logged, not raised. */
  tell(msg: MessageOf<M>, options: CallOptions = {}): void {
    this.#router.tell(this.kind, this.key, msg, options.trace ?? currentTrace.getStore(), options.timeoutMs ?? this.#defaultTimeoutMs);
  }

  /** Request/reply under a deadline; rejects with a ColmenaError (TIMEOUT, OVERLOADED, INVALID, ...). */
  ask<T extends MessageOf<M>>(msg: T, options: CallOptions = {}): Promise<ReplyOf<B, T["type"]>> {
    return this.#router.ask(this.kind, this.key, msg, options.timeoutMs ?? this.#defaultTimeoutMs, traceFor(options)) as Promise<ReplyOf<B, T["type"]>>;
  }

  /** A reply in chunks; leaving the loop early (or cancel()) stops the producer. */
  stream<T extends MessageOf<M>>(msg: T, options: CallOptions = {}): ActorStream<ChunkOf<B, T["type"]>> {
    return this.#router.stream(this.kind, this.key, msg, options.timeoutMs ?? this.#defaultTimeoutMs, traceFor(options));
  }
}

const traceFor = (options: CallOptions) => options.trace ?? currentTrace.getStore() ?? newTrace();
