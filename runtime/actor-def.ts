import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import type { Codec } from "../nats/codec.js";
import type { Subjects } from "../nats/subjects.js";
import type { Decider } from "../supervisors/index.js";
import type { CellStats } from "./actor-cell.js";
import type { ActorRef } from "./actor-ref.js";
import type { Logger } from "./logger.js";
import type { TraceContext } from "./trace.js";

/** One zod object schema per message type; the type name is the `type` field on the wire. */
export type MessageSchemas = Record<string, z.ZodObject>;

/** An object type without index signatures (zod types `z.object({})` as Record<string, never>). */
type Fields<T> = { [P in keyof T as string extends P ? never : P]: T[P] };

/** The discriminated union of an actor's messages, as senders write them (defaults may be left out). */
export type MessageOf<M extends MessageSchemas> = {
  [K in keyof M & string]: { type: K } & Fields<z.input<M[K]>>;
}[keyof M & string];

/** What a handler sees of the message it is handling. */
export interface CallContext {
  readonly trace: TraceContext | undefined;
  /** Epoch ms after which nobody waits for the answer. */
  readonly deadline: number;
  /** Aborted when the deadline passes or the caller cancels (streams). */
  readonly signal: AbortSignal;
  readonly log: Logger;
}

/** How an actor reaches other actors (the node's refs). */
export interface Refs {
  pool<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>): ActorRef<M, B>;
  ref<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>, key: string): ActorRef<M, B>;
  /**
   * Stores the first state of a keyed actor without activating it (one KV
   * create); false when the key already has state. See ActorSystem.initState.
   */
  initState<M extends MessageSchemas, B extends Behavior<M>>(kind: ActorKind<M, B>, key: string, state: unknown): Promise<boolean>;
}

/** What an activation sees of itself. */
export interface ActorContext {
  /** Refs to other actors; messages sent from a handler carry the handler's trace. */
  readonly actors: Refs;
  readonly kind: string;
  /** The key of a keyed actor; for a pooled one, its instance name. */
  readonly key: string;
  readonly nodeId: string;
  readonly log: Logger;
  /** The node's NATS connection, for actors that own NATS resources (JetStream consumers, streams). */
  readonly nc: NatsConnection;
  /** The node's subject and bucket names (its namespace). */
  readonly subjects: Subjects;
  /** The node's msgpack codec (bounded by the server's max payload), for actors that store values in NATS. */
  readonly codec: Codec;
  /** Keyed actors: the state saved by the last `save` (on any node), if any. */
  load<T>(): Promise<T | undefined>;
  /** Keyed actors: persists state so that a later activation, on any node, can `load` it. */
  save<T>(state: T): Promise<void>;
  /** This activation's own counters (mailbox depth, in flight, ...), as `ActorSystem.stats()` shows them. */
  stats(): CellStats;
}

type Handler<Msg> = (msg: Msg, call: CallContext) => unknown;

/**
 * An activation's behaviour: a handler per message type, plus optional hooks.
 * A handler returns a value (or a promise of one) for `ask`, or an async
 * iterable for `stream`. Throwing a ColmenaError answers the caller with it;
 * throwing anything else is a crash: the caller gets INTERNAL and the
 * supervisor decides what happens to the activation.
 */
export type Behavior<M extends MessageSchemas> = {
  [K in keyof M & string]: Handler<{ type: K } & Fields<z.output<M[K]>>>;
} & {
  /** Runs before the first message. */
  onStart?(): void | Promise<void>;
  /** Runs on passivation, restart and shutdown, after in-flight work ends. */
  onStop?(reason: string): void | Promise<void>;
};

export type Placement = "pooled" | "keyed";

export interface ActorDef<M extends MessageSchemas, B extends Behavior<M>> {
  kind: string;
  placement: Placement;
  messages: M;
  create(ctx: ActorContext): B | Promise<B>;
  /** Messages handled at once by one activation (default 1). */
  concurrency?: number;
  mailbox?: { capacity?: number; highWatermark?: number; lowWatermark?: number };
  /** Pooled: instances on each node hosting the kind (default 1). */
  instances?: number;
  /** Keyed: passivate after this long without a message (default 5 minutes). */
  idleMs?: number;
  /** Keyed: how long a key's saved state is kept after its last save (default: for ever). */
  stateTtlMs?: number;
  /** What a crash of this kind's activations leads to (default: restart). */
  decider?: Decider;
}

export interface ActorKind<M extends MessageSchemas = MessageSchemas, B extends Behavior<M> = Behavior<M>> extends Readonly<ActorDef<M, B>> {
  readonly concurrency: number;
  readonly mailbox: { capacity: number; highWatermark: number; lowWatermark: number };
  readonly instances: number;
  readonly idleMs: number;
}

/** A kind with its message and behaviour types erased, as the runtime's internals handle it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyKind = ActorKind<MessageSchemas, any>;

/** The answer type of message K: what its handler returns, awaited. */
export type ReplyOf<B, K extends PropertyKey> = K extends keyof B ? (B[K] extends (...a: never[]) => infer R ? Awaited<R> : never) : never;
/** The chunk type of a streaming message K. */
export type ChunkOf<B, K extends PropertyKey> = ReplyOf<B, K> extends AsyncIterable<infer C> ? C : never;

/** Declares an actor kind: its messages, behaviour and limits, checked once here. */
export function defineActor<M extends MessageSchemas, B extends Behavior<M>>(def: ActorDef<M, B>): ActorKind<M, B> {
  const capacity = def.mailbox?.capacity ?? 1024;
  const highWatermark = def.mailbox?.highWatermark ?? Math.max(1, Math.floor(capacity * 0.8));
  const lowWatermark = def.mailbox?.lowWatermark ?? Math.floor(capacity * 0.5);
  if (!(lowWatermark < highWatermark && highWatermark <= capacity)) {
    throw new RangeError(`${def.kind}: mailbox watermarks must satisfy low < high <= capacity (got ${lowWatermark}, ${highWatermark}, ${capacity})`);
  }
  for (const reserved of ["onStart", "onStop"]) {
    if (reserved in def.messages) throw new RangeError(`${def.kind}: "${reserved}" is a hook name, not a message type`);
  }
  return Object.freeze({
    ...def,
    concurrency: def.concurrency ?? 1,
    mailbox: { capacity, highWatermark, lowWatermark },
    instances: def.instances ?? 1,
    idleMs: def.idleMs ?? 5 * 60_000,
  });
}
