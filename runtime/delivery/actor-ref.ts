import type { Clock } from "../../supervisors/index.js";
import type { ActorAddress, ChunkOf, MessageOf, MessageSchemas, ReplyOf } from "../contract/address.js";
import type { CallOptions, CallScope } from "../contract/scope.js";
import type { ActorRef } from "../contract/refs.js";
import type { ActorStream } from "../contract/stream.js";
import { newTrace, type TraceContext } from "../observe/trace.js";
import { tracingEnabled } from "../observe/tracing.js";
import type { Router } from "./router.js";

/** What a ref needs to turn a send into a deadline and a trace. */
export interface RefScope {
  readonly router: Router;
  readonly clock: Clock;
  /** The deadline of a send whose scope has none (a node's refs, outside any call). */
  readonly defaultTimeoutMs: number;
  readonly call: CallScope;
}

/** An ActorRef over the node's router, bound to the scope it was made in. */
export class RoutedRef<M extends MessageSchemas, B> implements ActorRef<M, B> {
  readonly address: ActorAddress<M, B>;
  readonly key: string | undefined;
  readonly #scope: RefScope;

  constructor(scope: RefScope, address: ActorAddress<M, B>, key: string | undefined) {
    this.#scope = scope;
    this.address = address;
    this.key = key;
  }

  tell(msg: MessageOf<M>, options: CallOptions = {}): void {
    // Only a keyed tell has a deadline (to find its activation); a pooled one goes at once, and its deadline would be a clock reading per message for nothing.
    this.#scope.router.tell(this.address, this.key, msg, options.trace ?? this.#scope.call.trace, this.key === undefined ? Infinity : this.#deadline(options));
  }

  ask<T extends MessageOf<M>>(msg: T, options: CallOptions = {}): Promise<ReplyOf<B, T["type"]>> {
    return this.#scope.router.ask(this.address, this.key, msg, this.#deadline(options), this.#trace(options), options.ownerLost) as Promise<ReplyOf<B, T["type"]>>;
  }

  /** The stream is cancelled when the scope's signal aborts: a caller that leaves stops the producers behind it. */
  stream<T extends MessageOf<M>>(msg: T, options: CallOptions = {}): ActorStream<ChunkOf<B, T["type"]>> {
    const stream = this.#scope.router.stream<ChunkOf<B, T["type"]>>(this.address, this.key, msg, this.#deadline(options), this.#trace(options), options.ownerLost);
    const signal = this.#scope.call.signal;
    if (signal?.aborted) stream.cancel();
    else signal?.addEventListener("abort", () => stream.cancel(), { once: true });
    return stream;
  }

  /** The earliest of the scope's deadline and the options'; the default when neither has one. */
  #deadline(options: CallOptions): number {
    const { clock, call, defaultTimeoutMs } = this.#scope;
    let deadline = call.deadline;
    if (options.deadline !== undefined) deadline = Math.min(deadline, options.deadline);
    if (options.timeoutMs !== undefined) deadline = Math.min(deadline, clock.now() + options.timeoutMs);
    return Number.isFinite(deadline) ? deadline : clock.now() + defaultTimeoutMs;
  }

  /** A send outside any trace starts one: here, or with tracing on as the root span the router makes (which the sampler decides on). */
  #trace(options: CallOptions): TraceContext | undefined {
    return options.trace ?? this.#scope.call.trace ?? (tracingEnabled() ? undefined : newTrace());
  }
}
