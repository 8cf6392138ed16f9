import type { ActorAddress, ChunkOf, MessageOf, MessageSchemas, ReplyOf } from "./address.js";
import type { CallOptions, CallScope } from "./scope.js";
import type { ActorStream } from "./stream.js";

/**
 * A handle on an actor, pooled (any instance of the kind) or keyed (the one
 * activation of kind/key). Where the actor runs is the router's concern; the
 * semantics are the same on this node and across NATS. Each send takes its
 * deadline and trace from the scope the ref was made in, unless `options`
 * narrows them.
 */
export interface ActorRef<M extends MessageSchemas = MessageSchemas, B = unknown> {
  readonly address: ActorAddress<M, B>;
  readonly key: string | undefined;
  /** Fire-and-forget: at most once; refusals are logged, not raised. */
  tell(msg: MessageOf<M>, options?: CallOptions): void;
  /** Request/reply under the deadline; rejects with a ColmenaError (TIMEOUT, OVERLOADED, INVALID, ...). */
  ask<T extends MessageOf<M>>(msg: T, options?: CallOptions): Promise<ReplyOf<B, T["type"]>>;
  /** A reply in chunks; leaving the loop early (or cancel()) stops the producer. */
  stream<T extends MessageOf<M>>(msg: T, options?: CallOptions): ActorStream<ChunkOf<B, T["type"]>>;
}

/** How code reaches actors: the node's refs, or refs bound to a call. */
export interface Refs {
  pool<M extends MessageSchemas, B>(address: ActorAddress<M, B>): ActorRef<M, B>;
  ref<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string): ActorRef<M, B>;
  /** The same refs under another scope: its deadline and trace travel with every send. */
  within(scope: CallScope): Refs;
  /**
   * Stores the first state of a keyed actor without activating it (one KV
   * create); false when the key already has state.
   */
  initState<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string, state: unknown): Promise<boolean>;
}
