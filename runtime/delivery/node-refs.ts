import type { Clock } from "../../supervisors/index.js";
import type { ActorAddress, MessageSchemas } from "../contract/address.js";
import type { CallScope } from "../contract/scope.js";
import { ColmenaError } from "../contract/errors.js";
import type { ActorRef, Refs } from "../contract/refs.js";
import type { Subjects } from "../contract/subjects.js";
import { RoutedRef, type RefScope } from "./actor-ref.js";
import type { Router } from "./router.js";

export interface NodeRefsDeps {
  router: Router;
  clock: Clock;
  subjects: Subjects;
  defaultTimeoutMs: number;
  initState(address: ActorAddress, key: string, state: unknown): Promise<boolean>;
}

/** No deadline and no trace: a send from outside any call gets the default deadline and a new trace. */
const UNSCOPED: CallScope = { deadline: Infinity, trace: undefined };

/** A node's refs under one scope: the node's own (unscoped), a call's, or an edge request's. */
export class NodeRefs implements Refs {
  readonly #deps: NodeRefsDeps;
  readonly #scope: RefScope;

  constructor(deps: NodeRefsDeps, call: CallScope = UNSCOPED) {
    this.#deps = deps;
    this.#scope = { router: deps.router, clock: deps.clock, defaultTimeoutMs: deps.defaultTimeoutMs, call };
  }

  /** A pooled actor: any instance of the kind, preferring this node's. */
  pool<M extends MessageSchemas, B>(address: ActorAddress<M, B>): ActorRef<M, B> {
    if (address.placement !== "pooled") throw new ColmenaError("INVALID", `${address.kind} is keyed: use ref(address, key)`);
    return new RoutedRef(this.#scope, address, undefined);
  }

  /** A keyed actor: the one activation of kind/key in the cluster. */
  ref<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string): ActorRef<M, B> {
    if (address.placement !== "keyed") throw new ColmenaError("INVALID", `${address.kind} is pooled: use pool(address)`);
    this.#deps.subjects.keyed(address.kind, key); // validates the key now rather than at send time
    return new RoutedRef(this.#scope, address, key);
  }

  within(scope: CallScope): Refs {
    return new NodeRefs(this.#deps, scope);
  }

  async initState<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string, state: unknown): Promise<boolean> {
    if (address.placement !== "keyed") throw new ColmenaError("INVALID", `${address.kind} is pooled: it has no state to initialise`);
    this.#deps.subjects.keyed(address.kind, key);
    return this.#deps.initState(address, key, state);
  }
}
