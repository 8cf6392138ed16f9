import type { ActorAddress, MessageSchemas } from "../contract/address.js";
import { ColmenaError } from "../contract/errors.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { Refs } from "../contract/refs.js";
import type { CallScope } from "../contract/scope.js";

/**
 * The node's refs as one kind's activations see them: with `calls`
 * declared, refs to those kinds and its own only. Another is a programming
 * mistake, refused with INVALID when the ref is made rather than as a
 * permission violation on a node whose NATS user was cut from the
 * declaration. A kind without `calls` gets the refs as they are.
 */
export function declaredRefs(refs: Refs, kind: AnyHosted): Refs {
  if (kind.calls === undefined) return refs;
  const allowed = new Set([kind.address.kind, ...kind.calls]);
  const check = (address: ActorAddress) => {
    if (!allowed.has(address.kind)) {
      throw new ColmenaError("INVALID", `actor kind ${kind.address.kind} sends to ${address.kind}, which it does not declare in calls (${kind.calls!.join(", ") || "none"})`);
    }
  };
  const wrap = (inner: Refs): Refs => ({
    pool<M extends MessageSchemas, B>(address: ActorAddress<M, B>) {
      check(address as ActorAddress);
      return inner.pool(address);
    },
    ref<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string) {
      check(address as ActorAddress);
      return inner.ref(address, key);
    },
    within: (scope: CallScope) => wrap(inner.within(scope)),
    initState<M extends MessageSchemas, B>(address: ActorAddress<M, B>, key: string, state: unknown) {
      check(address as ActorAddress);
      return inner.initState(address, key, state);
    },
  });
  return wrap(refs);
}
