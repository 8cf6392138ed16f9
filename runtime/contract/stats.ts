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
