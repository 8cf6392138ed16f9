/**
 * JetStream helpers: create-or-update a stream, and (re)create a durable pull
 * consumer. Both are safe for every node to call at start-up: creating a
 * stream that exists with the same settings is a no-op on the server, and an
 * existing stream whose updatable settings differ is updated in place.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { NatsError } from "./errors.js";

export interface StreamSpec {
  name: string;
  subjects: string[];
  /** Default "file". */
  storage?: "file" | "memory";
  /** Default "limits"; "workqueue" removes a message once it is acknowledged. */
  retention?: "limits" | "workqueue" | "interest";
  /** Oldest message kept, in ms (default: no limit). */
  maxAgeMs?: number;
  /** Bytes kept (default: no limit). */
  maxBytes?: number;
  /** Messages kept (default: no limit). */
  maxMsgs?: number;
  /** Largest message accepted (default: the server's max_payload). */
  maxMsgSize?: number;
  /** Window within which a repeated Nats-Msg-Id is dropped as a duplicate (default 2 minutes). */
  duplicateWindowMs?: number;
  /** Copies kept in a cluster (default 1). */
  replicas?: number;
  description?: string;
}

export interface DurableSpec {
  stream: string;
  durable: string;
  /** Only messages on this subject (wildcards allowed). */
  filterSubject?: string;
  /** First stream sequence delivered; absent: every message in the stream. */
  startSeq?: number;
  /** Redelivery after this long without an ack (default 30 s). */
  ackWaitMs?: number;
  /** Unacknowledged messages the server hands out at most (default 1000). */
  maxAckPending?: number;
  /** Deliveries before the server gives up on a message (default: unlimited). */
  maxDeliver?: number;
  description?: string;
}

export const nanos = (ms: number) => Math.round(ms * 1_000_000);

const RETENTION = { limits: RetentionPolicy.Limits, workqueue: RetentionPolicy.Workqueue, interest: RetentionPolicy.Interest } as const;

/** The JetStream client and manager of a connection, created once per connection. */
const clients = new WeakMap<NatsConnection, { js: JetStreamClient; jsm: Promise<JetStreamManager> }>();

function clientsOf(nc: NatsConnection) {
  let c = clients.get(nc);
  if (!c) {
    c = { js: jetstream(nc), jsm: jetstreamManager(nc) };
    c.jsm.catch(() => clients.delete(nc));
    clients.set(nc, c);
  }
  return c;
}

/** The connection's JetStream client (shared). */
export const jetStreamOf = (nc: NatsConnection): JetStreamClient => clientsOf(nc).js;

/** The connection's JetStream manager (shared); UNAVAILABLE when JetStream is off. */
export async function jetStreamManagerOf(nc: NatsConnection): Promise<JetStreamManager> {
  try {
    return await clientsOf(nc).jsm;
  } catch (err) {
    throw jetStreamError(err, "JetStream is not available");
  }
}

/** Creates the stream, or updates the settings that may change; returns its info. */
export async function ensureStream(nc: NatsConnection, spec: StreamSpec): Promise<StreamInfo> {
  const jsm = await jetStreamManagerOf(nc);
  const updatable = {
    subjects: spec.subjects,
    max_age: nanos(spec.maxAgeMs ?? 0),
    max_bytes: spec.maxBytes ?? -1,
    max_msgs: spec.maxMsgs ?? -1,
    max_msg_size: spec.maxMsgSize ?? -1,
    duplicate_window: nanos(spec.duplicateWindowMs ?? 120_000),
    num_replicas: spec.replicas ?? 1,
    discard: DiscardPolicy.Old,
    ...(spec.description !== undefined && { description: spec.description }),
  } satisfies Partial<StreamConfig>;
  try {
    let info: StreamInfo | undefined;
    try {
      info = await jsm.streams.info(spec.name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (info === undefined) {
      info = await jsm.streams.add({
        name: spec.name,
        storage: spec.storage === "memory" ? StorageType.Memory : StorageType.File,
        retention: RETENTION[spec.retention ?? "limits"],
        ...updatable,
      });
    } else {
      const current = info.config as unknown as Record<string, unknown>;
      const differs = Object.entries(updatable).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v));
      if (differs) info = await jsm.streams.update(spec.name, { ...info.config, ...updatable });
    }
    await untilLeader(jsm, spec.name, info);
    return info;
  } catch (err) {
    throw jetStreamError(err, `stream ${spec.name} could not be created or updated`);
  }
}

/** How long a replicated stream may take to elect its leader after it is created, when the cluster is busy. */
const LEADER_WAIT_MS = 15_000;

/**
 * Waits until a replicated stream has a leader. A stream just created on a
 * cluster has none for a moment, and a publish to it meanwhile finds no
 * responders (the client reports "jetstream is not enabled"): nodes that
 * start together, creating their streams and buckets at once, must not fail
 * on it. A stream of one replica answers at once.
 */
export async function untilLeader(jsm: JetStreamManager, stream: string, info?: StreamInfo): Promise<void> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  for (let current = info ?? (await jsm.streams.info(stream)); ; current = await jsm.streams.info(stream)) {
    if ((current.config.num_replicas ?? 1) <= 1 || current.cluster === undefined || current.cluster.leader) return;
    if (Date.now() >= deadline) throw new NatsError("UNAVAILABLE", `stream ${stream} has elected no leader in ${LEADER_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Creates a durable pull consumer starting at `startSeq`, deleting any
 * consumer of that name first: a consumer's start position cannot be changed
 * in place, and callers that keep their own applied position (a snapshot) must
 * resume exactly there. Returns the consumer, ready to `consume` or `fetch`.
 */
export async function recreateDurable(nc: NatsConnection, spec: DurableSpec): Promise<Consumer> {
  const jsm = await jetStreamManagerOf(nc);
  try {
    await jsm.consumers.delete(spec.stream, spec.durable);
  } catch (err) {
    if (!isNotFound(err)) throw jetStreamError(err, `consumer ${spec.durable} could not be deleted`);
  }
  return ensureDurable(nc, spec);
}

/**
 * Creates a durable pull consumer, or reuses the existing one (which keeps its
 * acknowledged position; updatable settings are brought up to date).
 */
export async function ensureDurable(nc: NatsConnection, spec: DurableSpec): Promise<Consumer> {
  const jsm = await jetStreamManagerOf(nc);
  const updatable = {
    ack_wait: nanos(spec.ackWaitMs ?? 30_000),
    max_ack_pending: spec.maxAckPending ?? 1000,
    max_deliver: spec.maxDeliver ?? -1,
    ...(spec.description !== undefined && { description: spec.description }),
  } satisfies Partial<ConsumerConfig>;
  try {
    let exists = false;
    try {
      const info = await jsm.consumers.info(spec.stream, spec.durable);
      exists = true;
      const current = info.config as unknown as Record<string, unknown>;
      if (Object.entries(updatable).some(([k, v]) => JSON.stringify(current[k]) !== JSON.stringify(v))) {
        await jsm.consumers.update(spec.stream, spec.durable, updatable);
      }
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (!exists) {
      await jsm.consumers.add(spec.stream, {
        durable_name: spec.durable,
        ack_policy: AckPolicy.Explicit,
        ...(spec.startSeq !== undefined && spec.startSeq > 1
          ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: spec.startSeq }
          : { deliver_policy: DeliverPolicy.All }),
        ...(spec.filterSubject !== undefined && { filter_subject: spec.filterSubject }),
        ...updatable,
      });
    }
    return await jetStreamOf(nc).consumers.get(spec.stream, spec.durable);
  } catch (err) {
    throw jetStreamError(err, `consumer ${spec.durable} on ${spec.stream} could not be created`);
  }
}

/** Sequence of the last message stored on `subject` in `stream`, 0 when there is none. */
export async function lastSequenceOn(nc: NatsConnection, stream: string, subject: string): Promise<number> {
  const jsm = await jetStreamManagerOf(nc);
  try {
    const msg = await jsm.streams.getMessage(stream, { last_by_subj: subject });
    return msg?.seq ?? 0;
  } catch (err) {
    if (isNotFound(err)) return 0;
    throw jetStreamError(err, `cannot read the last message on ${subject}`);
  }
}

/** Messages one fetch of a replay asks for, and how long it waits for them. */
const REPLAY_BATCH = 256;
const REPLAY_FETCH_MS = 2_000;

/**
 * The messages on `subject` from `fromSeq` through `toSeq`, in order, read by
 * an ordered (ephemeral) consumer: it leaves no position on the server, so a
 * log can be read beside the durable consumers that apply it. Ends early
 * when the stream holds nothing more on the subject (entries removed).
 */
export async function* replaySubject(nc: NatsConnection, stream: string, subject: string, fromSeq: number, toSeq: number, signal?: AbortSignal): AsyncGenerator<JsMsg> {
  if (toSeq < fromSeq) return;
  let consumer: Consumer;
  try {
    consumer = await jetStreamOf(nc).consumers.get(stream, { filter_subjects: subject, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, fromSeq) });
  } catch (err) {
    throw jetStreamError(err, `cannot read ${subject} of ${stream}`);
  }
  try {
    for (;;) {
      signal?.throwIfAborted();
      let got = 0;
      for await (const m of await consumer.fetch({ max_messages: REPLAY_BATCH, expires: REPLAY_FETCH_MS })) {
        got++;
        if (m.seq > toSeq) return;
        yield m;
        if (m.seq === toSeq || m.info.pending === 0) return;
      }
      if (got === 0) return;
    }
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw jetStreamError(err, `reading ${subject} of ${stream} failed`);
  } finally {
    await consumer.delete().catch(() => {});
  }
}

/** True for "stream not found", "consumer not found" and "no message found". */
export function isNotFound(err: unknown): boolean {
  const codes: number[] = [JetStreamApiCodes.StreamNotFound, JetStreamApiCodes.ConsumerNotFound, JetStreamApiCodes.NoMessageFound];
  return err instanceof JetStreamApiError && codes.includes(err.code);
}

/** A JetStream failure as a NatsError: missing JetStream or no server answering is UNAVAILABLE (retryable). */
export function jetStreamError(err: unknown, what: string): NatsError {
  if (err instanceof NatsError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new NatsError("UNAVAILABLE", `${what}: ${message}`, { cause: err, retryAfterMs: 1_000 });
}
