import type { z } from "zod";

/** One zod object schema per message type; the type name is the `type` field on the wire. */
export type MessageSchemas = Record<string, z.ZodObject>;

/** An object type without index signatures (zod types `z.object({})` as Record<string, never>). */
type Fields<T> = { [P in keyof T as string extends P ? never : P]: T[P] };

/** The discriminated union of an actor's messages, as senders write them (defaults may be left out). */
export type MessageOf<M extends MessageSchemas> = {
  [K in keyof M & string]: { type: K } & Fields<z.input<M[K]>>;
}[keyof M & string];

/** A message of type K as its handler sees it (defaults applied). */
export type HandledMessage<M extends MessageSchemas, K extends keyof M & string> = { type: K } & Fields<z.output<M[K]>>;

/** Pooled: interchangeable instances behind a queue group. Keyed: one live activation per key in the cluster. */
export type Placement = "pooled" | "keyed";

declare const behaviour: unique symbol;

/**
 * Where messages for a kind go and what they may be: plain data that any
 * caller imports to send, whether or not its node hosts the kind. How a node
 * hosts it is a separate declaration (`hostActor`). B, the behaviour's type,
 * exists only for the compiler: it types each message's reply.
 */
export interface ActorAddress<M extends MessageSchemas = MessageSchemas, B = unknown> {
  readonly kind: string;
  readonly placement: Placement;
  readonly messages: M;
  /** Keyed: how long a key's saved state is kept after its last save (default: for ever). Every node that stores state for the kind must agree on it. */
  readonly stateTtlMs?: number | undefined;
  readonly [behaviour]?: B;
}

/** The answer type of message K: what its handler returns, awaited. */
export type ReplyOf<B, K extends PropertyKey> = K extends keyof B ? (B[K] extends (...a: never[]) => infer R ? Awaited<R> : never) : never;
/** The chunk type of a streaming message K. */
export type ChunkOf<B, K extends PropertyKey> = ReplyOf<B, K> extends AsyncIterable<infer C> ? C : never;
