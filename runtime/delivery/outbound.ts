import { createInbox, headers, nuid, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import type { Codec } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";
import type { ActorStream } from "../contract/stream.js";
import type { Subjects } from "../contract/subjects.js";
import { formatTraceparent, type TraceContext } from "../observe/trace.js";
import { remainingMs } from "../time/deadline.js";
import { ChunkQueue } from "./chunk-queue.js";
import { noResponders, Requester, responderLost } from "./requester.js";
import { SilenceWatch } from "./silence-watch.js";
import { CONTROL_CANCEL, CONTROL_CREDIT, FRAME_CHUNK, FRAME_END, FRAME_ERROR, H_ALIVE, H_CREDIT, H_ERROR, H_MODE, H_STREAM, H_TIMEOUT, H_TRACEPARENT, readStreamFrame, type StreamFrame } from "./wire.js";

export interface SendOptions {
  /** On this node's clock; what travels is the time left (Colmena-Timeout). */
  deadline: number;
  trace: TraceContext | undefined;
}

/** The caller's side of the actor protocol over NATS (see wire.ts). */
export class Outbound {
  readonly #nc: NatsConnection;
  readonly #codec: Codec;
  readonly #subjects: Subjects;
  readonly #clock: Clock;
  readonly #credit: number;
  readonly #requester: Requester;
  readonly #inboxPrefix: string;

  /** `inboxPrefix`: where replies and stream frames come (see inboxPrefix in contract/subjects.ts). */
  constructor(nc: NatsConnection, codec: Codec, subjects: Subjects, clock: Clock, credit: number, inboxPrefix: string) {
    this.#nc = nc;
    this.#requester = new Requester(nc, clock, inboxPrefix);
    this.#inboxPrefix = inboxPrefix;
    this.#codec = codec;
    this.#subjects = subjects;
    this.#clock = clock;
    this.#credit = credit;
  }

  /** Fire-and-forget publish (pooled tell). */
  tell(subject: string, msg: unknown, trace: TraceContext | undefined): void {
    const data = this.#encode(msg);
    if (trace) {
      const h = headers();
      h.set(H_TRACEPARENT, formatTraceparent(trace));
      this.#nc.publish(subject, data, { headers: h });
    } else {
      this.#nc.publish(subject, data);
    }
  }

  /** A tell that waits for the receiver's admission ack (keyed tell: it must find the activation). */
  async tellAcked(subject: string, msg: unknown, options: SendOptions): Promise<void> {
    const h = this.#headers(options);
    h.set(H_MODE, "tell");
    await this.#request(subject, msg, options.deadline, h, false);
  }

  /** An actor's ask: its responder beats while it works, so one that goes silent is lost (Requester). */
  async ask(subject: string, msg: unknown, options: SendOptions): Promise<unknown> {
    return this.#request(subject, msg, options.deadline, this.#headers(options), true);
  }

  /** A request to a node's keyed host (activation), which answers without beats. */
  async askHost(subject: string, msg: unknown, options: SendOptions): Promise<unknown> {
    return this.#request(subject, msg, options.deadline, this.#headers(options), false);
  }

  stream<T>(subject: string, msg: unknown, options: SendOptions): ActorStream<T> & { readonly started: Promise<void> } {
    const data = this.#encode(msg);
    const clock = this.#clock;
    const timeoutMs = remainingMs(this.#clock, options.deadline);
    const streamId = nuid.next();
    const inbox = createInbox(this.#inboxPrefix);
    const control = this.#subjects.streamControl(streamId);
    const sendControl = (frame: unknown) => this.#nc.publish(control, this.#codec.encode(frame));
    let cancelled = false;
    const queue = new ChunkQueue<T>(() => {
      cancelled = true;
      sendControl([CONTROL_CANCEL]);
      finish();
    });
    const grant = Math.max(1, Math.floor(this.#credit / 2));
    let consumed = 0;
    queue.onConsumed = () => {
      if (++consumed % grant === 0) sendControl([CONTROL_CREDIT, grant]);
    };
    let markStarted!: () => void;
    let failStart!: (e: ColmenaError) => void;
    const started = new Promise<void>((resolve, reject) => {
      markStarted = resolve;
      failStart = reject;
    });
    started.catch(() => {});
    // A producer beats on the inbox while the stream is open (inbound.ts): one silent for ALIVE_SILENCE_MS is lost.
    const watch = new SilenceWatch(clock, (silentMs) => {
      const error = responderLost(subject, silentMs);
      failStart(error);
      queue.push({ error });
      sendControl([CONTROL_CANCEL]);
      finish();
    });
    const sub = this.#nc.subscribe(inbox, {
      callback: (err, m) => {
        if (err) return;
        watch.heard();
        if (m.headers?.has(H_ALIVE)) return markStarted();
        if (m.headers?.code === 503) {
          const error = noResponders(subject);
          failStart(error);
          queue.push({ error });
          return finish();
        }
        markStarted();
        if (cancelled) return sendControl([CONTROL_CANCEL]); // the producer may have missed the first cancel
        let frame: StreamFrame;
        try {
          frame = readStreamFrame(this.#codec, m.data);
        } catch (e) {
          queue.push({ error: ColmenaError.from(e) });
          return finish();
        }
        if (frame[0] === FRAME_CHUNK) queue.push({ chunk: frame[1] });
        else if (frame[0] === FRAME_END) {
          queue.push({ end: true });
          finish();
        } else if (frame[0] === FRAME_ERROR) {
          queue.push({ error: ColmenaError.fromWire(frame[1]) });
          finish();
        }
      },
    });
    const timer = clock.setTimeout(() => {
      queue.push({ error: new ColmenaError("TIMEOUT", `stream from ${subject} passed its ${timeoutMs} ms deadline`) });
      sendControl([CONTROL_CANCEL]);
      finish();
    }, timeoutMs);
    const finish = () => {
      clock.clearTimeout(timer);
      watch.stop();
      markStarted();
      sub.unsubscribe();
    };
    const h = this.#headers(options);
    h.set(H_MODE, "stream");
    h.set(H_STREAM, streamId);
    h.set(H_CREDIT, String(this.#credit));
    this.#nc.publish(subject, data, { reply: inbox, headers: h });
    return Object.assign(queue, { started });
  }

  #headers(options: SendOptions): MsgHdrs {
    const h = headers();
    h.set(H_TIMEOUT, String(Math.floor(remainingMs(this.#clock, options.deadline))));
    if (options.trace) h.set(H_TRACEPARENT, formatTraceparent(options.trace));
    return h;
  }

  /** Encoding failures (TOO_LARGE, a value msgpack cannot hold) are the caller's, typed. */
  #encode(msg: unknown): Uint8Array {
    try {
      return this.#codec.encode(msg);
    } catch (err) {
      throw ColmenaError.from(err);
    }
  }

  async #request(subject: string, msg: unknown, deadline: number, h: MsgHdrs, watch: boolean): Promise<unknown> {
    const reply = await this.#requester.request(subject, this.#encode(msg), Math.max(1, remainingMs(this.#clock, deadline)), h, watch);
    try {
      if (reply.headers?.has(H_ERROR)) throw ColmenaError.fromWire(this.#codec.decode(reply.data));
      return reply.data.length === 0 ? undefined : this.#codec.decode(reply.data);
    } catch (err) {
      throw ColmenaError.from(err);
    }
  }

  /** Resolves once the connection is up (see Requester.connected), or by the deadline. */
  connected(deadline: number): Promise<void> {
    return this.#requester.connected(Math.max(0, remainingMs(this.#clock, deadline)));
  }

  close(): void {
    this.#requester.close();
  }
}
