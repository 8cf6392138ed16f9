import type { MsgHdrs } from "@nats-io/transport-node";
import { z } from "zod";
import type { Codec } from "../../nats/index.js";
import type { ActorAddress } from "../contract/address.js";
import { ColmenaError } from "../contract/errors.js";
import { zodIssues } from "../contract/zod-issues.js";

/**
 * The actor protocol on NATS. A request's body is the msgpack of the message
 * ({type, ...fields}); what a message means for delivery travels in headers:
 *
 * - Colmena-Timeout: the milliseconds the caller still waits (the receiver's
 *   deadline is its own clock plus this, so clock skew between nodes is moot);
 * - Colmena-Mode: "tell" when a reply subject only wants the admission ack,
 *   "stream" for a streamed reply (with Colmena-Stream and Colmena-Credit);
 * - traceparent: W3C trace context of the caller's span.
 *
 * A successful reply is the msgpack of the value with no headers; an error
 * reply carries Colmena-Error: <code> and the msgpack of the WireError.
 * While an ask is being worked on (admitted, not yet answered) its responder
 * sends an empty message with Colmena-Alive on the reply subject every
 * ALIVE_BEAT_MS: the caller fails an ask it hears nothing from for
 * ALIVE_SILENCE_MS as a lost responder (see Requester). A stream's producer
 * beats on the caller's inbox the same way until the stream closes, and the
 * caller fails a stream it hears nothing from (no frame, no beat) for as
 * long (silence-watch.ts).
 * Stream frames (producer → caller inbox) are [0, chunk] | [1] | [2, error];
 * control frames (caller → producer) are [0, credit] | [1] (cancel).
 */
export const H_TIMEOUT = "Colmena-Timeout";
export const H_MODE = "Colmena-Mode";
export const H_STREAM = "Colmena-Stream";
export const H_CREDIT = "Colmena-Credit";
export const H_ERROR = "Colmena-Error";
export const H_TRACEPARENT = "traceparent";
export const H_ALIVE = "Colmena-Alive";

/** How often a responder says it is still working on an ask. */
export const ALIVE_BEAT_MS = 1_000;
/** How long a caller waits without a word from the responder of an ask before it counts the responder lost: several beats, for a busy responder's late timers. */
export const ALIVE_SILENCE_MS = 5_000;

export const FRAME_CHUNK = 0;
export const FRAME_END = 1;
export const FRAME_ERROR = 2;
export const CONTROL_CREDIT = 0;
export const CONTROL_CANCEL = 1;

const StreamFrameSchema = z.union([
  z.tuple([z.literal(FRAME_CHUNK), z.unknown()]),
  z.tuple([z.literal(FRAME_END)]),
  z.tuple([z.literal(FRAME_ERROR), z.unknown()]),
]);
const ControlFrameSchema = z.union([z.tuple([z.literal(CONTROL_CREDIT), z.number().int().positive()]), z.tuple([z.literal(CONTROL_CANCEL)])]);

export type StreamFrame = z.infer<typeof StreamFrameSchema>;
export type ControlFrame = z.infer<typeof ControlFrameSchema>;

/**
 * The readers of what arrives on the wire. Each returns a valid value or
 * throws a ColmenaError (DECODE: not msgpack; TOO_LARGE; INVALID: the wrong
 * shape), never anything else, whatever the bytes: a peer's bad frame costs
 * its own request, never a NATS callback.
 */
export function decodeWire(codec: Codec, bytes: Uint8Array): unknown {
  try {
    return codec.decode(bytes);
  } catch (err) {
    throw ColmenaError.from(err);
  }
}

/** A request's body: the message as the handler will see it. */
export function readMessage(kind: ActorAddress, codec: Codec, bytes: Uint8Array): { type: string } {
  return validateMessage(kind, decodeWire(codec, bytes));
}

/** A frame of a streamed reply (producer → caller). */
export function readStreamFrame(codec: Codec, bytes: Uint8Array): StreamFrame {
  return frame(StreamFrameSchema, decodeWire(codec, bytes), "stream frame");
}

/** A control frame of a stream (caller → producer). */
export function readControlFrame(codec: Codec, bytes: Uint8Array): ControlFrame {
  return frame(ControlFrameSchema, decodeWire(codec, bytes), "stream control frame");
}

function frame<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ColmenaError("INVALID", `malformed ${what}: ${zodIssues(parsed.error, { root: "(frame)" }).slice(0, 3).join("; ")}`);
  return parsed.data;
}

export type Mode = "tell" | "ask" | "stream";

/** How a request wants to be answered, read from its headers and reply subject. */
export function readMode(hasReply: boolean, hdrs: MsgHdrs | undefined): Mode {
  const mode = hdrs?.get(H_MODE);
  if (mode === "stream") return "stream";
  if (mode === "tell" || !hasReply) return "tell";
  return "ask";
}

/** Milliseconds from the Colmena-Timeout header, or undefined when absent. */
export function readTimeout(hdrs: MsgHdrs | undefined): number | undefined {
  const raw = hdrs?.get(H_TIMEOUT);
  if (!raw) return undefined;
  const ms = Number(raw);
  if (!Number.isFinite(ms) || ms < 0) throw new ColmenaError("INVALID", `${H_TIMEOUT} header must be a non-negative number of milliseconds, got ${JSON.stringify(raw)}`);
  return ms;
}

/** Each message type's schema with its `type` literal added, built once per kind (parsing then needs no copy). */
const typed = new WeakMap<ActorAddress, Map<string, z.ZodObject>>();

function schemaFor(kind: ActorAddress, type: string): z.ZodObject {
  let byType = typed.get(kind);
  if (!byType) {
    byType = new Map(Object.entries(kind.messages).map(([t, schema]) => [t, schema.extend({ type: z.literal(t) })]));
    typed.set(kind, byType);
  }
  return byType.get(type)!;
}

/** Checks a message against the kind's schemas; returns it as the handler will see it (defaults applied). */
export function validateMessage(kind: ActorAddress, body: unknown): { type: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ColmenaError("INVALID", `${kind.kind}: a message must be a map with a "type" field, got ${describe(body)}`);
  }
  const type = (body as { type?: unknown }).type;
  if (typeof type !== "string" || !Object.hasOwn(kind.messages, type)) {
    const named = typeof type === "string" ? JSON.stringify(type.slice(0, 80)) : describe(type); // a BigInt, say, has no JSON
    throw new ColmenaError("INVALID", `${kind.kind}: unknown message type ${named}; expected one of ${Object.keys(kind.messages).join(", ")}`);
  }
  const parsed = schemaFor(kind, type).safeParse(body);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error, { root: "(message)" });
    throw new ColmenaError("INVALID", `${kind.kind}.${type}: ${issues.join("; ")}`, { details: { issues: parsed.error.issues } });
  }
  return sameFields(parsed.data, body) ? (body as { type: string }) : (parsed.data as { type: string });
}

/**
 * True when the parse gave back the message itself, field for field (no
 * default filled in, nothing transformed or stripped): then the sender's
 * object is delivered and the copy is left to die young. A same-node
 * mailbox holds what it is offered until its turn comes, so a second object
 * per queued message was the most of what outlived a scavenge (and got
 * copied by it) on the tell path.
 */
function sameFields(parsed: object, body: object): boolean {
  const p = parsed as Record<string, unknown>;
  const b = body as Record<string, unknown>;
  let n = 0;
  for (const key in p) {
    const v = p[key];
    if (v !== b[key] || (v === undefined && !(key in b))) return false;
    n++;
  }
  for (const _ in b) if (--n < 0) return false;
  return n === 0;
}

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : v === undefined ? "none" : typeof v);
