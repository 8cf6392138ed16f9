import type { NatsConnection } from "@nats-io/transport-node";
import type { z } from "zod";
import type { Codec } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { Subjects } from "./subjects.js";
import type { Logger } from "../observe/logger.js";
import type { Refs } from "./refs.js";
import type { CellStats } from "./stats.js";

/** What an activation sees of itself and its node. */
export interface ActorContext {
  /** The node's refs: sends made outside a call (onStart, timers) with the default deadline. Inside a handler use `call.refs`. */
  readonly actors: Refs;
  readonly kind: string;
  /** The key of a keyed actor; for a pooled one, its instance name. */
  readonly key: string;
  readonly nodeId: string;
  readonly log: Logger;
  /** The node's clock: what deadlines, timers and TTLs are measured on. */
  readonly clock: Clock;
  /** The node's NATS connection, for actors that own NATS resources (JetStream consumers, streams). */
  readonly nc: NatsConnection;
  /** The node's subject and bucket names (its namespace). */
  readonly subjects: Subjects;
  /** The node's msgpack codec (bounded by the server's max payload), for actors that store values in NATS. */
  readonly codec: Codec;
  /** Keyed actors: the state saved by the last `save` (on any node), if any; with a schema, none unless it passes. Unreadable state loads as none (and is reported). */
  load<T>(schema?: z.ZodType<T>): Promise<T | undefined>;
  /** Keyed actors: persists state so that a later activation, on any node, can `load` it. */
  save<T>(state: T): Promise<void>;
  /** This activation's own counters (mailbox depth, in flight, ...). */
  stats(): CellStats;
}
