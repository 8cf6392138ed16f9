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
}

/** One kind on one node: its supervisor's status and every activation. */
export interface KindStats {
  kind: string;
  placement: "pooled" | "keyed";
  supervisor: string;
  activations: CellStats[];
}

/** One node's actors, as `ActorSystem.stats()` answers (the node's root supervisor state, "unreachable" when it did not answer). */
export interface NodeActors {
  node: string;
  supervisor: string;
  kinds: KindStats[];
}
