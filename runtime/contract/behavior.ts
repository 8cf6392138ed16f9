import type { ActorAddress, HandledMessage, MessageSchemas, Placement } from "./address.js";
import type { CallContext } from "./call.js";

type Handler<Msg> = (msg: Msg, call: CallContext) => unknown;

/**
 * An activation's behaviour: a handler per message type, plus optional hooks.
 * A handler returns a value (or a promise of one) for `ask`, or an async
 * iterable for `stream`; it always receives the call's context. Throwing a
 * typed error answers the caller with it; throwing anything else is a crash:
 * the caller gets INTERNAL and the supervisor decides what happens to the
 * activation.
 */
export type Behavior<M extends MessageSchemas> = {
  [K in keyof M & string]: Handler<HandledMessage<M, K>>;
} & {
  /** Runs before the first message. */
  onStart?(): void | Promise<void>;
  /** Runs on passivation, restart and shutdown, after in-flight work ends. */
  onStop?(reason: string): void | Promise<void>;
};

/**
 * Declares a kind's address. The behaviour type is named by the kind's own
 * module (usually `Awaited<ReturnType<typeof createX>>`), so callers get
 * typed replies without importing how the kind is hosted.
 */
export function actorAddress<M extends MessageSchemas, B extends Behavior<M>>(address: { kind: string; placement: Placement; messages: M; stateTtlMs?: number | undefined }): ActorAddress<M, B> {
  for (const reserved of ["onStart", "onStop"]) {
    if (reserved in address.messages) throw new RangeError(`${address.kind}: "${reserved}" is a hook name, not a message type`);
  }
  if (address.stateTtlMs !== undefined && address.placement !== "keyed") throw new RangeError(`${address.kind}: only keyed kinds keep state (stateTtlMs)`);
  return Object.freeze({
    kind: address.kind,
    placement: address.placement,
    messages: address.messages,
    ...(address.stateTtlMs !== undefined && { stateTtlMs: address.stateTtlMs }),
  });
}
