import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Clock } from "../supervisors/index.js";
import type { Codec } from "../nats/codec.js";
import type { Subjects } from "../nats/subjects.js";
import type { AnyKind, Refs } from "./actor-def.js";
import type { ActorCell, CellStats } from "./actor-cell.js";
import type { Inbound } from "./inbound.js";
import type { Logger } from "./logger.js";
import type { PlacementDirectory } from "./placement.js";
import type { StateStore } from "./state-store.js";

/** What a node gives the hosts of its actor kinds. */
export interface HostDeps {
  nodeId: string;
  nc: NatsConnection;
  codec: Codec;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  inbound: Inbound;
  placement: PlacementDirectory;
  state: StateStore;
  graceMs: number;
  actors: Refs;
}

/** The part of a node that runs one actor kind. */
export interface KindHost {
  readonly kind: AnyKind;
  start(): Promise<void>;
  /** Stops taking messages from NATS (graceful shutdown, first step). */
  stopIntake(): Promise<void>;
  /** Lets queued work finish, stops every activation, releases what it holds. */
  stop(reason: string): Promise<void>;
  stats(): CellStats[];
  cells(): Iterable<ActorCell>;
}

/** The context an activation gets; load/save reach the state store under the actor's key. */
export function actorContext(deps: HostDeps, kind: AnyKind, key: string) {
  return {
    nodeId: deps.nodeId,
    actors: deps.actors,
    nc: deps.nc,
    subjects: deps.subjects,
    codec: deps.codec,
    load: <T>() => deps.state.load<T>(kind, key),
    save: <T>(state: T) => deps.state.save(kind, key, state),
  };
}

/** Unsubscribes after delivering what already arrived; a closed subscription is left alone. */
export async function drainQuietly(sub: Subscription): Promise<void> {
  if (sub.isClosed()) return;
  await sub.drain().catch(() => {});
}
