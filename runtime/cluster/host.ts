import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { z } from "zod";
import type { Codec } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { Refs } from "../contract/refs.js";
import type { CellStats } from "../contract/stats.js";
import type { Storage } from "../contract/storage.js";
import type { Subjects } from "../contract/subjects.js";
import type { ActorCell, CellOptions } from "../cell/actor-cell.js";
import { destinationOf } from "../delivery/hop-spans.js";
import type { Inbound } from "../delivery/inbound.js";
import type { Logger } from "../observe/logger.js";
import { declaredRefs } from "./declared-refs.js";
import { declaredStorage } from "./declared-storage.js";
import { openDurableIntake } from "./durable-intake.js";
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
  storage: Storage;
  graceMs: number;
  refs: Refs;
  /** Live, not draining nodes hosting a kind (this one included). */
  hostsOf(kind: string): string[];
  /** Whether the node's heartbeats have failed for a whole lease (Membership.fenced): it takes no new keys then. */
  fenced(): boolean;
}

/** The part of a node that runs one actor kind. */
export interface KindHost {
  readonly kind: AnyHosted;
  start(): Promise<void>;
  /** Stops taking messages from NATS (graceful shutdown, first step). */
  stopIntake(): Promise<void>;
  /** Lets queued work finish, stops every activation, releases what it holds. */
  stop(reason: string): Promise<void>;
  stats(): CellStats[];
  cells(): Iterable<ActorCell>;
}

/** What every activation of a kind on this node gets; load/save reach the state store under the actor's key. */
export function cellOptions(deps: HostDeps, kind: AnyHosted, key: string): Omit<CellOptions, "onIntake" | "onTerminate"> {
  const log = deps.log.child({ kind: kind.address.kind, key });
  const { intake } = kind;
  return {
    ...(intake && {
      openIntake: async (behavior, target) => {
        return openDurableIntake({ nc: deps.nc, codec: deps.codec, clock: deps.clock, log }, kind.address, intake.type, async () => intake.source(behavior), target);
      },
    }),
    kind,
    key,
    destination: destinationOf(deps.subjects, kind.address, kind.address.placement === "keyed" ? key : undefined),
    refs: declaredRefs(deps.refs, kind),
    clock: deps.clock,
    log,
    context: {
      nodeId: deps.nodeId,
      storage: declaredStorage(deps.storage, kind),
      load: <T>(schema?: z.ZodType<T>) => deps.state.load<T>(kind.address, key, schema),
      save: <T>(state: T) => deps.state.save(kind.address, key, state),
    },
  };
}

/** Unsubscribes after delivering what already arrived; a closed subscription is left alone. */
export async function drainQuietly(sub: Subscription): Promise<void> {
  if (sub.isClosed()) return;
  await sub.drain().catch(() => {});
}
