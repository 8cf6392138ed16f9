import type { ActorAddress } from "../contract/address.js";
import type { Subjects } from "../contract/subjects.js";
import type { TraceContext } from "../observe/trace.js";
import { SpanKind, startSpan, type Span } from "../observe/tracing.js";

/** Where a hop goes, as the messaging semantic conventions name it: the subject, and the subject with its key replaced (bounded cardinality). */
export interface Destination {
  readonly name: string;
  readonly template: string;
}

export function destinationOf(subjects: Subjects, address: ActorAddress, key: string | undefined): Destination {
  if (key === undefined) {
    const pool = subjects.pool(address.kind);
    return { name: pool, template: pool };
  }
  return { name: subjects.keyed(address.kind, key), template: subjects.keyedTemplate(address.kind) };
}

/** How a message is sent: a tell publishes, an ask or a stream is a request. */
export type SendOperation = "publish" | "request";

/**
 * The sender's span of one hop (kind PRODUCER), following
 * https://opentelemetry.io/docs/specs/semconv/messaging/: its context is the
 * trace the message carries, so the receiver's span is its child. Same-node
 * hops have them too, so a trace reads the same wherever an actor lives.
 */
export function producerSpan(operation: SendOperation, dest: Destination, address: ActorAddress, msgType: string, parent: TraceContext | undefined): Span {
  return startSpan(`${operation} ${dest.template}`, SpanKind.PRODUCER, parent, () => ({
    ...common(dest, address, msgType),
    "messaging.operation.name": operation,
    "messaging.operation.type": "send",
  }));
}

/** The receiver's span (kind CONSUMER): the handling of one message, from the handler's start to its answer (or its stream's end). */
export function consumerSpan(dest: Destination, address: ActorAddress, msgType: string, parent: TraceContext | undefined): Span {
  return startSpan(`process ${dest.template}`, SpanKind.CONSUMER, parent, () => ({
    ...common(dest, address, msgType),
    "messaging.operation.name": "process",
    "messaging.operation.type": "process",
  }));
}

/** A JetStream append (kind PRODUCER); the entry's consumer span, when a durable intake takes it, is its child. */
export function appendSpan(subject: string, template: string, parent: TraceContext | undefined): Span {
  return startSpan(`publish ${template}`, SpanKind.PRODUCER, parent, () => ({
    "messaging.system": "nats",
    "messaging.system.name": "nats",
    "messaging.destination.name": subject,
    "messaging.destination.template": template,
    "messaging.operation.name": "publish",
    "messaging.operation.type": "send",
  }));
}

function common(dest: Destination, address: ActorAddress, msgType: string) {
  return {
    "messaging.system": "nats",
    "messaging.system.name": "nats",
    "messaging.destination.name": dest.name,
    "messaging.destination.template": dest.template,
    "colmena.actor.kind": address.kind,
    "colmena.message.type": msgType,
  };
}
