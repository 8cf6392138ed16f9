import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Clock } from "../supervisors/index.js";
import type { Codec } from "../nats/codec.js";
import type { Subjects } from "../nats/subjects.js";
import type { AnyKind } from "./actor-def.js";
import type { Envelope, ReplySink, StreamSink } from "./envelope.js";
import { ColmenaError } from "./errors.js";
import type { Logger } from "./logger.js";
import { childSpan, parseTraceparent } from "./trace.js";
import {
  CONTROL_CANCEL,
  CONTROL_CREDIT,
  FRAME_CHUNK,
  FRAME_END,
  FRAME_ERROR,
  H_CREDIT,
  H_ERROR,
  H_STREAM,
  readMode,
  readTimeout,
  validateMessage,
  type ControlFrame,
} from "./wire.js";

/** Something that takes envelopes: a cell, or a router in front of several. */
export type Admit = (env: Envelope) => ColmenaError | undefined;

export interface InboundDeps {
  nc: NatsConnection;
  codec: Codec;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  askTimeoutMs: number;
}

/**
 * Turns NATS requests into envelopes: decodes, validates, and answers bad
 * input with a typed error (or logs and drops it when there is nowhere to
 * answer). Nothing that arrives on the wire can throw past this point.
 */
export class Inbound {
  readonly #deps: InboundDeps;

  constructor(deps: InboundDeps) {
    this.#deps = deps;
  }

  handle(m: Msg, kind: AnyKind, admit: Admit): void {
    const { clock, log } = this.#deps;
    const hdrs = m.headers;
    let mode: ReturnType<typeof readMode> = "tell";
    try {
      mode = readMode(Boolean(m.reply), hdrs);
      const timeout = readTimeout(hdrs);
      const msg = validateMessage(kind, this.#deps.codec.decode(m.data));
      const parent = parseTraceparent(hdrs?.get("traceparent"));
      const trace = parent && childSpan(parent);
      const deadline = timeout !== undefined ? clock.now() + timeout : mode === "tell" ? Infinity : clock.now() + this.#deps.askTimeoutMs;
      const env: Envelope = {
        msg,
        deadline,
        trace,
        reply: mode === "ask" ? this.#replySink(m) : undefined,
        stream: mode === "stream" ? this.#streamSink(m, hdrs?.get(H_STREAM), Number(hdrs?.get(H_CREDIT) || 1), deadline) : undefined,
      };
      const refused = admit(env);
      if (refused) {
        if (env.stream) env.stream.fail(refused);
        else this.#refuse(m, mode, refused);
      } else if (mode === "tell" && m.reply) {
        m.respond(); // admission ack for a keyed tell
      }
    } catch (err) {
      this.#refuse(m, mode, ColmenaError.from(err));
    }
  }

  #refuse(m: Msg, mode: string, error: ColmenaError): void {
    if (!m.reply) {
      this.#deps.log.warn({ subject: m.subject, code: error.code, err: error.message }, "dropped a message with no reply subject");
      return;
    }
    if (mode === "stream") this.#publishFrame(m.reply, [FRAME_ERROR, error.toWire()]);
    else this.#respondError(m, error);
  }

  #respondError(m: Msg, error: ColmenaError): void {
    const h = headers();
    h.set(H_ERROR, error.code);
    m.respond(this.#deps.codec.encode(error.toWire()), { headers: h });
  }

  #replySink(m: Msg): ReplySink {
    return {
      resolve: (value) => {
        let bytes: Uint8Array;
        try {
          bytes = this.#deps.codec.encode(value);
        } catch (err) {
          this.#respondError(m, ColmenaError.from(err));
          return;
        }
        m.respond(bytes);
      },
      reject: (error) => this.#respondError(m, error),
    };
  }

  #publishFrame(subject: string, frame: unknown): void {
    this.#deps.nc.publish(subject, this.#deps.codec.encode(frame));
  }

  #streamSink(m: Msg, streamId: string | undefined, credit: number, deadline: number): StreamSink {
    if (!streamId || !m.reply) throw new ColmenaError("INVALID", `a stream request needs a reply subject and a ${H_STREAM} header`);
    return new RemoteStreamSink(this.#deps, m.reply, streamId, credit, deadline, (frame) => this.#publishFrame(m.reply!, frame));
  }
}

/** The producer's end of a stream whose caller is on another node. */
class RemoteStreamSink implements StreamSink {
  readonly #controller = new AbortController();
  readonly #publish: (frame: unknown) => void;
  readonly #control: Subscription;
  readonly #timer: unknown;
  readonly #clock: Clock;
  #credit: number;
  #waiter: (() => void) | undefined;
  #closed = false;

  constructor(deps: InboundDeps, replyTo: string, streamId: string, credit: number, deadline: number, publish: (frame: unknown) => void) {
    this.#publish = publish;
    this.#credit = Number.isInteger(credit) && credit > 0 ? credit : 1;
    this.#clock = deps.clock;
    this.#control = deps.nc.subscribe(deps.subjects.streamControl(streamId), {
      callback: (err, msg) => {
        if (err) return;
        let frame: ControlFrame;
        try {
          frame = deps.codec.decode<ControlFrame>(msg.data);
        } catch {
          deps.log.warn({ replyTo }, "ignored an undecodable stream control frame");
          return;
        }
        if (frame[0] === CONTROL_CREDIT && typeof frame[1] === "number" && frame[1] > 0) this.#grant(frame[1]);
        else if (frame[0] === CONTROL_CANCEL) this.#cancel();
      },
    });
    this.#timer = Number.isFinite(deadline) ? deps.clock.setTimeout(() => this.#cancel(), Math.max(0, deadline - deps.clock.now())) : undefined;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  ready(): Promise<void> | undefined {
    if (this.#credit > 0 || this.#closed) {
      this.#credit--;
      return undefined;
    }
    return new Promise((resolve) => {
      this.#waiter = () => {
        this.#credit--;
        resolve();
      };
    });
  }

  chunk(value: unknown): void {
    if (!this.#closed) this.#publish([FRAME_CHUNK, value]);
  }

  end(): void {
    if (!this.#closed) this.#publish([FRAME_END]);
    this.#close();
  }

  fail(error: ColmenaError): void {
    if (!this.#closed) this.#publish([FRAME_ERROR, error.toWire()]);
    this.#close();
  }

  #grant(n: number): void {
    this.#credit += n;
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #cancel(): void {
    this.#controller.abort(new ColmenaError("CANCELLED", "the caller cancelled the stream"));
    this.#close();
    this.#grant(1);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#control.unsubscribe();
  }
}
