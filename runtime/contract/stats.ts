/** Lifecycle of one activation (the cell's lifecycle statechart). */
export type LifecycleState = "starting" | "running" | "saturated" | "failed" | "restarting" | "draining" | "stopped";

/** Backpressure of one activation (the cell's backpressure statechart). */
export type BackpressureState = "accepting" | "throttled" | "shedding";

/** One activation's counters, as `ActorSystem.stats()` and `colmena status` show them. */
export interface CellStats {
  kind: string;
  key: string;
  lifecycle: LifecycleState;
  backpressure: BackpressureState;
  mailbox: number;
  capacity: number;
  inFlight: number;
  processed: number;
  failed: number;
  rejected: number;
  expired: number;
  restarts: number;
  /** Entries of the durable intake passed over because they were not valid messages. */
  intakeRefused: number;
}

/** One kind on one node: its supervisor's status and every activation. */
export interface KindStats {
  kind: string;
  placement: "pooled" | "keyed";
  supervisor: string;
  activations: CellStats[];
}

/** Failures nothing else caught: the process guard's unhandled rejections and uncaught exceptions. */
export interface Faults {
  count: number;
  last?: { origin: string; message: string; at: number };
}

/** One node's actors, as `ActorSystem.stats()` answers (the node's root supervisor state, "unreachable" when it did not answer). */
export interface NodeActors {
  node: string;
  supervisor: string;
  kinds: KindStats[];
  /** The rest is absent for a node that did not answer: its membership lease lapsed, faults nothing caught, malformed stream entries by source. */
  fenced?: boolean;
  faults?: Faults;
  malformed?: Readonly<Record<string, number>>;
}
