import type { PoolLoad } from "../cluster/membership.js";
import type { Admit } from "./envelope.js";

/** A node's hosting of one kind, as the router sees it: where to deliver on this node. */
export interface LocalTarget {
  /** Admission into one activation. */
  readonly admit: Admit;
}

/** What the router asks of the node's pooled hosts. */
export interface PooledTargets {
  /** How busy this node's instances are, now. */
  load(): PoolLoad;
  /** A local instance to deliver to directly, or undefined to go through the queue group (see PooledHost.pickLocal). */
  pickLocal(othersHost: boolean): LocalTarget | undefined;
  /** Any live local instance, busy or not (last resort when no other node can help). */
  anyLocal(): LocalTarget | undefined;
}

/** Where a keyed activation lives after an activation attempt. */
export type Activation = { local: LocalTarget } | { owner: string };

/** What the router asks of the node's keyed hosts. */
export interface KeyedTargets {
  local(key: string): LocalTarget | undefined;
  activate(key: string): Promise<Activation>;
}
