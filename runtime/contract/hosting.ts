import type { Clock, Decider } from "../../supervisors/index.js";
import type { Logger } from "../observe/logger.js";
import type { ActorAddress, MessageSchemas, Placement } from "./address.js";
import { actorAddress, type Behavior } from "./behavior.js";
import type { ActorContext } from "./context.js";
import type { DurableIntake } from "./intake.js";
import type { Storage } from "./storage.js";

/** What a kind's handover `prepare` gets on the node a key is moving to. */
export interface HandoverContext {
  readonly kind: string;
  readonly key: string;
  readonly nodeId: string;
  readonly storage: Storage;
  readonly log: Logger;
  readonly clock: Clock;
  /** Aborted when the move is given up (its time is up, or the node stops). */
  readonly signal: AbortSignal;
}

/**
 * Keyed: how a key moves to its place when the place changes to a node that
 * joined (runtime/README.md, "Handover"). `prepare` runs on that node first
 * (a shard replica catches up with its log there); the key moves only once
 * it resolved.
 */
export interface Handover {
  prepare?(ctx: HandoverContext): Promise<void>;
}

/** How a node hosts a kind: its behaviour factory and limits. */
export interface HostingProps<M extends MessageSchemas, B extends Behavior<M>> {
  create(ctx: ActorContext): B | Promise<B>;
  /** Messages handled at once by one activation (default 1). */
  concurrency?: number;
  mailbox?: { capacity?: number; highWatermark?: number; lowWatermark?: number };
  /** Pooled: instances on each node hosting the kind (default 1). */
  instances?: number;
  /** Keyed: passivate after this long without a message (default 5 minutes). */
  idleMs?: number;
  /** What a crash of this kind's activations leads to (default: restart). */
  decider?: Decider;
  /** Messages of one type that come from a durable stream (a write log, a work queue). */
  intake?: DurableIntake<M, B>;
  /**
   * Keyed: keys of one group are placed on different nodes where there are
   * enough (the replicas of one shard): rank r goes to the r-th node of the
   * group's order among the nodes hosting the kind. Without it every key is
   * its own group of rank 0.
   */
  spread?: (key: string) => { group: string; rank: number };
  /** Keyed: move activations to their place when it changes (a node joined); absent, a key stays where it is until it passivates. */
  handover?: Handover;
  /**
   * The logs and buckets (names inside the namespace, as `ctx.storage`
   * takes them) its activations open. The runtime refuses any other, so
   * this declaration is true, and the NATS permissions of a node that hosts
   * the kind are cut from it (cli/nats-permissions.ts).
   */
  stores?: { logs?: readonly string[]; buckets?: readonly string[] };
  /**
   * The other kinds its activations send to (kind names). When given, the
   * runtime refuses a ref to any other kind (its own is always allowed),
   * and a node's NATS user may publish only to the actor subjects of these
   * kinds and its own; absent, it may send to any kind.
   */
  calls?: readonly string[];
}

/** What a hosted kind stores: its logs and buckets (see HostingProps.stores). */
export interface KindStores {
  readonly logs: readonly string[];
  readonly buckets: readonly string[];
}

/**
 * An address with what a node needs to host it, its limits resolved and
 * checked. It is still the kind's address (a module that hosts a kind may
 * send to it through the same value); an address alone cannot be hosted.
 */
export interface HostedKind<M extends MessageSchemas = MessageSchemas, B extends Behavior<M> = Behavior<M>> extends ActorAddress<M, B> {
  readonly address: ActorAddress<M, B>;
  readonly create: (ctx: ActorContext) => B | Promise<B>;
  readonly concurrency: number;
  readonly mailbox: { readonly capacity: number; readonly highWatermark: number; readonly lowWatermark: number };
  readonly instances: number;
  readonly idleMs: number;
  readonly decider: Decider | undefined;
  readonly intake: DurableIntake<M, B> | undefined;
  readonly spread: ((key: string) => { group: string; rank: number }) | undefined;
  readonly handover: Handover | undefined;
  readonly stores: KindStores;
  readonly calls: readonly string[] | undefined;
}

/** A hosted kind with its message and behaviour types erased, as the runtime's internals handle it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyHosted = HostedKind<MessageSchemas, any>;

/** Declares how a node hosts `address`; the limits are checked once, here. */
export function hostActor<M extends MessageSchemas, B extends Behavior<M>>(address: ActorAddress<M, B>, props: HostingProps<M, B>): HostedKind<M, B> {
  const capacity = props.mailbox?.capacity ?? 1024;
  const highWatermark = props.mailbox?.highWatermark ?? Math.max(1, Math.floor(capacity * 0.8));
  const lowWatermark = props.mailbox?.lowWatermark ?? Math.floor(capacity * 0.5);
  if (props.intake !== undefined && !Object.hasOwn(address.messages, props.intake.type)) {
    throw new RangeError(`${address.kind}: the intake's type ${JSON.stringify(props.intake.type)} is not one of its messages`);
  }
  if (!(lowWatermark < highWatermark && highWatermark <= capacity)) {
    throw new RangeError(`${address.kind}: mailbox watermarks must satisfy low < high <= capacity (got ${lowWatermark}, ${highWatermark}, ${capacity})`);
  }
  return Object.freeze({
    ...address,
    address,
    create: props.create,
    concurrency: props.concurrency ?? 1,
    mailbox: Object.freeze({ capacity, highWatermark, lowWatermark }),
    instances: props.instances ?? 1,
    idleMs: props.idleMs ?? 5 * 60_000,
    decider: props.decider,
    intake: props.intake,
    spread: props.spread,
    handover: props.handover,
    calls: props.calls === undefined ? undefined : Object.freeze([...props.calls]),
    stores: Object.freeze({ logs: Object.freeze([...(props.stores?.logs ?? [])]), buckets: Object.freeze([...(props.stores?.buckets ?? [])]) }),
  });
}

/**
 * Address and hosting in one declaration, for a kind whose only host is the
 * module that declares it (tests, benchmarks): the behaviour type is inferred
 * from `create`, and `.address` is what callers send to.
 */
export function defineActor<M extends MessageSchemas, B extends Behavior<M>>(
  def: { kind: string; placement: Placement; messages: M; stateTtlMs?: number } & HostingProps<M, B>,
): HostedKind<M, B> {
  return hostActor(actorAddress<M, B>(def), def);
}
