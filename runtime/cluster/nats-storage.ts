import type { KV } from "@nats-io/kv";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream, isNotFound, jetStreamError, jetStreamManagerOf, jetStreamOf, lastSequenceOn, openBucket, replaySubject, type Codec } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";
import { subjectToken, type Subjects } from "../contract/subjects.js";
import type { Bucket, BucketOptions, KeyView, Log, LogSpec, LogState, ReplayedEntry, Storage } from "../contract/storage.js";
import { appendSpan } from "../delivery/hop-spans.js";
import { H_TRACEPARENT } from "../delivery/wire.js";
import type { Logger } from "../observe/logger.js";
import { formatTraceparent } from "../observe/trace.js";
import { activeTrace, endSpan } from "../observe/tracing.js";
import { BucketKeyView } from "./key-view.js";
import { StreamHead } from "./log-head.js";

/** The node's storage in JetStream: streams and KV buckets named in its namespace, values in its codec. */
export class NatsStorage implements Storage {
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #replicas: number;

  /** `replicas`: copies of every stream and bucket it creates (see nats.replicas). */
  constructor(nc: NatsConnection, subjects: Subjects, codec: Codec, clock: Clock, replicas = 1) {
    this.#nc = nc;
    this.#subjects = subjects;
    this.#codec = codec;
    this.#clock = clock;
    this.#replicas = replicas;
  }

  async log(spec: LogSpec): Promise<Log> {
    const root = `${this.#subjects.prefix}.${subjectToken(spec.name, "log name")}`;
    const stream = this.#subjects.bucket(spec.name);
    await ensureStream(this.#nc, {
      name: stream,
      subjects: [`${root}.>`],
      storage: "file",
      retention: spec.retention ?? "limits",
      description: spec.description,
      replicas: this.#replicas,
      ...(spec.maxAgeMs !== undefined && { maxAgeMs: spec.maxAgeMs }),
      ...(spec.maxBytes !== undefined && { maxBytes: spec.maxBytes }),
      ...(spec.maxMessages !== undefined && { maxMsgs: spec.maxMessages }),
      ...(spec.duplicateWindowMs !== undefined && { duplicateWindowMs: spec.duplicateWindowMs }),
    });
    return new NatsLog(this.#nc, this.#codec, this.#clock, stream, root);
  }

  async bucket(name: string, options: BucketOptions = {}): Promise<Bucket> {
    const kv = await openBucket(this.#nc, this.#subjects.bucket(name), { ...options, replicas: this.#replicas }).catch((err: unknown) => {
      throw jetStreamError(err, `bucket ${name} could not be opened`);
    });
    return new NatsBucket(kv, this.#codec, name, { nc: this.#nc, fullName: this.#subjects.bucket(name), clock: this.#clock });
  }
}

class NatsLog implements Log {
  readonly stream: string;
  readonly #nc: NatsConnection;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #root: string;

  constructor(nc: NatsConnection, codec: Codec, clock: Clock, stream: string, root: string) {
    this.#nc = nc;
    this.#codec = codec;
    this.#clock = clock;
    this.stream = stream;
    this.#root = root;
  }

  subject(...tokens: string[]): string {
    return [this.#root, ...tokens.map((t) => subjectToken(t, "subject token"))].join(".");
  }

  async append(subject: string, value: unknown, options: { msgId?: string } = {}): Promise<number> {
    return this.#publish(subject, this.#encode(subject, value), options.msgId);
  }

  async appendAll(entries: readonly { subject: string; value: unknown; msgId?: string }[]): Promise<PromiseSettledResult<number>[]> {
    const encoded = entries.map((e) => this.#encode(e.subject, e.value));
    return Promise.allSettled(entries.map((e, i) => this.#publish(e.subject, encoded[i]!, e.msgId)));
  }

  #encode(subject: string, value: unknown): Uint8Array {
    if (!subject.startsWith(`${this.#root}.`)) throw new ColmenaError("INVALID", `${subject} is not a subject of ${this.stream}`);
    return this.#codec.encode(value);
  }

  async #publish(subject: string, data: Uint8Array, msgId?: string): Promise<number> {
    // An entry appended while a traced message is handled carries the trace, and the intake that takes it continues it.
    const parent = activeTrace();
    const span = parent && appendSpan(subject, `${this.#root}.>`, parent);
    let h: MsgHdrs | undefined;
    if (span) {
      h = headers();
      h.set(H_TRACEPARENT, formatTraceparent(span.spanContext()));
    }
    try {
      const seq = (await jetStreamOf(this.#nc).publish(subject, data, { ...(msgId !== undefined && { msgID: msgId }), ...(h && { headers: h }) })).seq;
      if (span) endSpan(span);
      return seq;
    } catch (err) {
      const e = jetStreamError(err, `an entry on ${subject} was not stored`);
      if (span) endSpan(span, e);
      throw e;
    }
  }

  lastSequenceOn(subject: string): Promise<number> {
    return lastSequenceOn(this.#nc, this.stream, subject);
  }

  async state(): Promise<LogState> {
    const jsm = await jetStreamManagerOf(this.#nc);
    try {
      const { state } = await jsm.streams.info(this.stream);
      return { messages: state.messages, firstSeq: state.first_seq, lastSeq: state.last_seq };
    } catch (err) {
      throw jetStreamError(err, `cannot read where ${this.stream} stands`);
    }
  }

  async read(seq: number): Promise<unknown> {
    const jsm = await jetStreamManagerOf(this.#nc);
    let data: Uint8Array | undefined;
    try {
      data = (await jsm.streams.getMessage(this.stream, { seq }))?.data;
    } catch (err) {
      if (!isNotFound(err)) throw jetStreamError(err, `cannot read entry ${seq} of ${this.stream}`);
    }
    return data === undefined ? undefined : this.#codec.decode(data);
  }

  async *replay(subject: string, fromSeq: number, toSeq: number, signal?: AbortSignal): AsyncIterable<ReplayedEntry> {
    if (!subject.startsWith(`${this.#root}.`)) throw new ColmenaError("INVALID", `${subject} is not a subject of ${this.stream}`);
    for await (const m of replaySubject(this.#nc, this.stream, subject, fromSeq, toSeq, signal)) {
      let entry: ReplayedEntry;
      try {
        entry = { seq: m.seq, value: this.#codec.decode(m.data) };
      } catch (err) {
        entry = { seq: m.seq, value: undefined, error: ColmenaError.from(err).message };
      }
      yield entry;
    }
  }

  async pending(durable: string): Promise<number | undefined> {
    const jsm = await jetStreamManagerOf(this.#nc);
    try {
      const info = await jsm.consumers.info(this.stream, durable);
      return info.num_pending + info.num_ack_pending;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw jetStreamError(err, `cannot read consumer ${durable} of ${this.stream}`);
    }
  }

  async follow(options: { log?: Pick<Logger, "info" | "warn"> } = {}): Promise<StreamHead> {
    const head = new StreamHead(this.#nc, this.stream, this.#clock, options);
    await head.start();
    return head;
  }
}

class NatsBucket implements Bucket {
  readonly #kv: KV;
  readonly #codec: Codec;
  readonly #name: string;
  readonly #watch: { nc: NatsConnection; fullName: string; clock: Clock };

  constructor(kv: KV, codec: Codec, name: string, watch: { nc: NatsConnection; fullName: string; clock: Clock }) {
    this.#kv = kv;
    this.#codec = codec;
    this.#name = name;
    this.#watch = watch;
  }

  async watchKeys(options: { warn?: (msg: string, fields: Record<string, unknown>) => void } = {}): Promise<KeyView> {
    const { nc, fullName, clock } = this.#watch;
    const view = new BucketKeyView(nc, fullName, clock, options.warn);
    try {
      await view.start();
    } catch (err) {
      await view.stop();
      throw jetStreamError(err, `cannot watch the keys of bucket ${this.#name}`);
    }
    return view;
  }

  async get(key: string): Promise<unknown> {
    let entry;
    try {
      entry = await this.#kv.get(key);
    } catch (err) {
      throw jetStreamError(err, `cannot read ${key} in bucket ${this.#name}`);
    }
    if (!entry || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    return this.#codec.decode(entry.value);
  }

  async put(key: string, value: unknown): Promise<void> {
    const data = this.#codec.encode(value);
    try {
      await this.#kv.put(key, data);
    } catch (err) {
      throw jetStreamError(err, `cannot write ${key} in bucket ${this.#name}`);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.#kv.delete(key);
    } catch (err) {
      throw jetStreamError(err, `cannot delete ${key} in bucket ${this.#name}`);
    }
  }

  async *keys(): AsyncIterable<string> {
    try {
      yield* await this.#kv.keys();
    } catch (err) {
      throw jetStreamError(err, `cannot list the keys of bucket ${this.#name}`);
    }
  }
}
