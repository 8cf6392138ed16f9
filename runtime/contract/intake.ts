import type { DurableSpec } from "../../nats/index.js";
import type { MessageOf, MessageSchemas } from "./address.js";
import type { ColmenaError } from "./errors.js";

/** One stored entry of a durable stream, as the runtime hands it to a kind: decoded, not yet validated. */
export interface DurableEntry {
  readonly value: unknown;
  /** Stream sequence. */
  readonly seq: number;
  readonly subject: string;
  /** 1 on first delivery. */
  readonly deliveries: number;
}

/**
 * Where one incarnation's durable messages come from: a JetStream pull
 * consumer, and how each entry becomes a message of the kind. With
 * `startSeq` the consumer is recreated there (the incarnation knows what it
 * holds, e.g. from a snapshot); without, the server's ack floor resumes.
 */
export interface DurableSource<M extends MessageSchemas> extends DurableSpec {
  /** Entries handed to the mailbox at once; 1 keeps stream order. */
  inFlight: number;
  /**
   * Entries the client buffers ahead (a consume loop), for a log replayed
   * fast in order. Absent: each pull asks for as many entries as there are
   * free slots, so none waits in a client-side buffer at shutdown (a work
   * queue shared by many workers).
   */
  pullBatch?: number;
  /** How long the server waits before delivering a failed entry again (default: at once). */
  retryDelayMs?(error: ColmenaError, deliveries: number): number;
  /**
   * The message for an entry, validated against the kind's schema for the
   * intake's type. An entry that does not decode, a throw here or a message
   * that does not validate passes the entry over (terminated, logged,
   * counted in `intakeRefused`): bad input must not stall the stream.
   */
  message(entry: DurableEntry): MessageOf<M>;
}

/**
 * A kind whose messages of type `type` come from a durable stream, not from
 * senders: the runtime pulls them and offers each to the activation's
 * mailbox like any message (the same admission, statecharts, supervision),
 * acks it once its handler answers, and naks it when the handler fails.
 * Senders cannot send that type: only the stream can.
 */
export interface DurableIntake<M extends MessageSchemas, B> {
  readonly type: keyof M & string;
  /** Called after onStart of each incarnation: where this incarnation reads from; undefined: nowhere (an activation that only refuses). */
  source(behavior: B): DurableSource<M> | undefined | Promise<DurableSource<M> | undefined>;
}
