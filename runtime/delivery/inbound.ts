import { headers, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Codec } from "../../nats/index.js";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import type { ActorAddress } from "../contract/address.js";
import { ColmenaError } from "../contract/errors.js";
import type { Subjects } from "../contract/subjects.js";
import type { Logger } from "../observe/logger.js";
import { childSpan, parseTraceparent } from "../observe/trace.js";
import { traces } from "../observe/tracing.js";
import { remainingMs } from "../time/deadline.js";
import { AliveBeats, type Beating } from "./alive-beats.js";
import { Credit } from "./credit.js";
import type { Admit, Envelope, ReplySink, StreamSink } from "./envelope.js";
import { CONTROL_CREDIT, FRAME_CHUNK, FRAME_END, FRAME_ERROR, H_CREDIT, H_ERROR, H_STREAM, readControlFrame, readMessage, readMode, readTimeout, type ControlFrame } from "./wire.js";

export interface InboundDeps {
  nc: NatsConnection;
  codec: Codec;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  /** The deadline of a request that names none (a caller that is not Colmena's own). */
  defaultTimeoutMs: number;
}

/**
 * Turns NATS requests into envelopes: decodes, validates, and answers bad
 * input with a typed error (or logs and drops it when there is nowhere to
 * answer). Nothing that arrives on the wire can throw past this point. The
 * time left that a request carries becomes a deadline on this node's clock.
 * An admitted ask beats on its reply subject until it is answered
 * (alive-beats.ts).
 */
export class Inbound {
  readonly #deps: InboundDeps;
  readonly #beats: AliveBeats;

  constructor(deps: InboundDeps) {
    this.#deps = deps;
    this.#beats = new AliveBeats(deps.nc, deps.clock);
  }

  /** Stops the beats of asks never answered (their activations were stopped): called at shutdown. */
  close(): void {
    this.#beats.close();
  }

  handle(m: Msg, address: ActorAddress, admit: Admit): void {
    const { clock } = this.#deps;
    const hdrs = m.headers;
    let mode: ReturnType<typeof readMode> = "tell";
    try {
      mode = readMode(Boolean(m.reply), hdrs);
      const timeout = readTimeout(hdrs);
      const msg = readMessage(address, this.#deps.codec, m.data);
      const parent = parseTraceparent(hdrs?.get("traceparent"));
      // A traced hop gets its consumer span from the receiving cell, under the sender's; any other a span id of its own here.
      const trace = parent && (traces(parent) ? parent : childSpan(parent));
      const deadline = timeout !== undefined ? clock.now() + timeout : mode === "tell" ? Infinity : clock.now() + this.#deps.defaultTimeoutMs;
      const reply = mode === "ask" ? new ReplyToCaller(this, m) : undefined;
      const env: Envelope = {
        msg,
        deadline,
        trace,
        reply,
        stream: mode === "stream" ? this.#streamSink(m, hdrs?.get(H_STREAM), Number(hdrs?.get(H_CREDIT) || 1), deadline) : undefined,
      };
      const refused = admit(env);
      if (refused) {
        if (env.stream) env.stream.fail(refused);
        else this.#refuse(m, mode, refused);
      } else if (reply) {
        reply.admitted(this.#beats, deadline);
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
    else this.respondError(m, error);
  }

  respondError(m: Msg, error: ColmenaError): void {
    const h = headers();
    h.set(H_ERROR, error.code);
    m.respond(this.#deps.codec.encode(error.toWire()), { headers: h });
  }

  respondValue(m: Msg, value: unknown): void {
    let bytes: Uint8Array;
    try {
      bytes = this.#deps.codec.encode(value);
    } catch (err) {
      this.respondError(m, ColmenaError.from(err));
      return;
    }
    m.respond(bytes);
  }

  #publishFrame(subject: string, frame: unknown): void {
    this.#deps.nc.publish(subject, this.#deps.codec.encode(frame));
  }

  #streamSink(m: Msg, streamId: string | undefined, credit: number, deadline: number): StreamSink {
    if (!streamId || !m.reply) throw new ColmenaError("INVALID", `a stream request needs a reply subject and a ${H_STREAM} header`);
    return new RemoteStreamSink(this.#deps, this.#beats, m.reply, streamId, credit, deadline, (frame) => this.#publishFrame(m.reply!, frame));
  }
}

/** The answer to an ask from another node: it beats from its admission until it is answered, once. */
class ReplyToCaller implements ReplySink {
  readonly #inbound: Inbound;
  readonly #m: Msg;
  #beating: { beats: AliveBeats; b: Beating } | undefined;
  #answered = false;

  constructor(inbound: Inbound, m: Msg) {
    this.#inbound = inbound;
    this.#m = m;
  }

  /** An answer given during admission needs no beat. */
  admitted(beats: AliveBeats, deadline: number): void {
    if (!this.#answered) this.#beating = { beats, b: beats.begin(this.#m.reply!, deadline) };
  }

  resolve(value: unknown): void {
    if (this.#answer()) this.#inbound.respondValue(this.#m, value);
  }

  reject(error: ColmenaError): void {
    if (this.#answer()) this.#inbound.respondError(this.#m, error);
  }

  #answer(): boolean {
    if (this.#answered) return false;
    this.#answered = true;
    if (this.#beating) this.#beating.beats.end(this.#beating.b);
    return true;
  }
}

/** The producer's end of a stream whose caller is on another node; it beats on the caller's inbox until it closes. */
class RemoteStreamSink implements StreamSink {
  readonly #controller = new AbortController();
  readonly #beats: AliveBeats;
  readonly #beating: Beating;
  readonly #publish: (frame: unknown) => void;
  readonly #control: Subscription;
  readonly #timer: TimerHandle | undefined;
  readonly #clock: Clock;
  readonly #credit: Credit;
  #closed = false;

  constructor(deps: InboundDeps, beats: AliveBeats, replyTo: string, streamId: string, credit: number, deadline: number, publish: (frame: unknown) => void) {
    this.#publish = publish;
    this.#beats = beats;
    this.#beating = beats.begin(replyTo, deadline);
    this.#credit = new Credit(credit);
    this.#clock = deps.clock;
    this.#control = deps.nc.subscribe(deps.subjects.streamControl(streamId), {
      callback: (err, msg) => {
        if (err) return;
        let frame: ControlFrame;
        try {
          frame = readControlFrame(deps.codec, msg.data);
        } catch (e) {
          deps.log.warn({ replyTo, err: (e as Error).message }, "ignored a malformed stream control frame");
          return;
        }
        if (frame[0] === CONTROL_CREDIT) this.#credit.grant(frame[1]);
        else this.#cancel();
      },
    });
    this.#timer = Number.isFinite(deadline) ? deps.clock.setTimeout(() => this.#cancel(), remainingMs(deps.clock, deadline)) : undefined;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  ready(): Promise<void> | undefined {
    return this.#credit.take();
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

  #cancel(): void {
    this.#controller.abort(new ColmenaError("CANCELLED", "the caller cancelled the stream"));
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#beats.end(this.#beating);
    this.#credit.release();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#control.unsubscribe();
  }
}
