import type { z } from "zod";
import type { Clock } from "../../supervisors/index.js";
import type { Logger } from "../observe/logger.js";
import type { Refs } from "./refs.js";
import type { CellStats } from "./stats.js";
import type { Storage } from "./storage.js";

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
  /** The node's logs and buckets, in its namespace (an actor's only way to durable storage besides load/save). */
  readonly storage: Storage;
  /** Keyed actors: the state saved by the last `save` (on any node), if any; with a schema, none unless it passes. Unreadable state loads as none (and is reported). */
  load<T>(schema?: z.ZodType<T>): Promise<T | undefined>;
  /** Keyed actors: persists state so that a later activation, on any node, can `load` it. */
  save<T>(state: T): Promise<void>;
  /** This activation's own counters (mailbox depth, in flight, ...). */
  stats(): CellStats;
}
