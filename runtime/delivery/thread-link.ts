import type { MessagePort } from "node:worker_threads";
import type { Codec } from "../../nats/index.js";
import type { Clock } from "../../supervisors/index.js";
import type { ActorAddress } from "../contract/address.js";
import { ColmenaError, type WireError } from "../contract/errors.js";
import type { Logger } from "../observe/logger.js";
import { childSpan, formatTraceparent, parseTraceparent, type TraceContext } from "../observe/trace.js";
import { traces } from "../observe/tracing.js";
import { remainingMs } from "../time/deadline.js";
import { localAsk } from "./local.js";
import type { PooledTargets } from "./targets.js";
import { readMessage } from "./wire.js";

/** Caller → serving thread. */
interface AskFrame {
  t: "ask";
  id: number;
  kind: string;
  /** The message, codec-encoded as on the wire (so the server validates what it decodes, as for NATS). */
  data: Uint8Array;
  /** Time left, as a NATS request carries it: each side reads deadlines on its own clock. */
  timeoutMs: number;
  traceparent?: string;
}

/** Serving thread → caller. */
type AnswerFrame = { t: "reply"; id: number; data: Uint8Array } | { t: "error"; id: number; error: WireError };

/**
 * A copy in a buffer of its own, moved rather than cloned. An encoder's
 * output is a view of a larger buffer it keeps writing into (and a Buffer's
 * slice() is such a view too): moving that one would detach it under the
 * encoder and the NATS client, and cloning it would copy it whole.
 */
function movable(bytes: Uint8Array): { data: Uint8Array; transfer: ArrayBuffer[] } {
  const data = new Uint8Array(bytes);
  return { data, transfer: [data.buffer] };
}

/**
 * Pooled asks from one node to another node of the same process (the main
 * thread's bridge to its actor thread) over a MessagePort instead of NATS.
 * A question then crosses no socket and no nats-server on its way in and
 * out: on NATS the ask and its reply were four socket writes and four
 * wake-ups of the server. The semantics are NATS's: the message travels
 * encoded and the serving node validates it against the kind's schema, the
 * deadline travels as time left, the trace as a `traceparent`, and errors as
 * their wire form. The other thread's node still announces itself and its
 * load over NATS, so the balancer chooses it as any node; only the hop is
 * shorter. Streams keep going over NATS.
 */
export class ThreadLink {
  readonly #port: MessagePort;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: ColmenaError) => void }>();
  #next = 0;
  #closed = false;

  constructor(port: MessagePort, codec: Codec, clock: Clock) {
    this.#port = port;
    this.#codec = codec;
    this.#clock = clock;
    port.on("message", (m: AnswerFrame) => this.#answer(m));
    // The other thread ended: nothing it held will be answered.
    port.once("close", () => this.close());
  }

  ask(kind: string, msg: { type: string }, deadline: number, trace: TraceContext | undefined): Promise<unknown> {
    if (this.#closed) return Promise.reject(new ColmenaError("UNAVAILABLE", `the thread hosting ${kind} has stopped`, { retryable: true }));
    const id = this.#next++;
    const timeoutMs = remainingMs(this.#clock, deadline);
    const { data, transfer } = movable(this.#codec.encode(msg));
    return new Promise((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(id);
        reject(new ColmenaError("TIMEOUT", `no answer from ${msg.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = () => {
        this.#clock.clearTimeout(timer);
        this.#pending.delete(id);
      };
      this.#pending.set(id, {
        resolve: (v) => (settle(), resolve(v)),
        reject: (e) => (settle(), reject(e)),
      });
      const frame: AskFrame = { t: "ask", id, kind, data, timeoutMs, ...(trace && { traceparent: formatTraceparent(trace) }) };
      this.#port.postMessage(frame, transfer);
    });
  }

  /** Fails every ask still waiting (retryable: another node may take it) and stops listening. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const lost = new ColmenaError("UNAVAILABLE", "the thread that was answering has stopped", { retryable: true });
    for (const p of [...this.#pending.values()]) p.reject(lost);
    this.#port.close();
  }

  #answer(m: AnswerFrame): void {
    const p = this.#pending.get(m.id);
    if (!p) return; // timed out meanwhile
    if (m.t === "error") p.reject(ColmenaError.fromWire(m.error));
    else {
      try {
        p.resolve(this.#codec.decode(m.data));
      } catch (err) {
        p.reject(ColmenaError.from(err));
      }
    }
  }
}

export interface ThreadLinkServerDeps {
  /** This node's pooled kinds, with their addresses (for the schema each message must pass). */
  pooled: ReadonlyMap<string, PooledTargets & { readonly kind: { readonly address: ActorAddress } }>;
  codec: Codec;
  clock: Clock;
  log: Logger;
}

/**
 * The serving end of a ThreadLink, on the thread whose node hosts the
 * kinds: each ask goes to an instance of its kind on this node (one below
 * its high watermark, else any: its mailbox bounds it), under the deadline
 * and trace it came with. Whatever arrives, the answer is a reply or a typed
 * error, never a throw.
 */
export function serveThreadLink(port: MessagePort, deps: ThreadLinkServerDeps): ThreadLinkServer {
  const { codec, clock } = deps;
  let refusing = false;
  const answer = (id: number, outcome: { value: unknown } | { error: ColmenaError }) => {
    if ("error" in outcome) return port.postMessage({ t: "error", id, error: outcome.error.toWire() } satisfies AnswerFrame);
    let bytes: Uint8Array;
    try {
      bytes = codec.encode(outcome.value);
    } catch (err) {
      return port.postMessage({ t: "error", id, error: ColmenaError.from(err).toWire() } satisfies AnswerFrame);
    }
    const { data, transfer } = movable(bytes);
    port.postMessage({ t: "reply", id, data } satisfies AnswerFrame, transfer);
  };
  const onAsk = (f: AskFrame) => {
    if (refusing) return answer(f.id, { error: new ColmenaError("UNAVAILABLE", "this thread's node is stopping", { retryable: true }) });
    const host = deps.pooled.get(f.kind);
    const target = host?.pickLocal(false) ?? host?.anyLocal();
    if (!host || !target) return answer(f.id, { error: new ColmenaError("UNAVAILABLE", `no instance of ${f.kind} on this thread`, { retryable: true }) });
    let msg: { type: string };
    try {
      msg = readMessage(host.kind.address, codec, f.data);
    } catch (err) {
      return answer(f.id, { error: ColmenaError.from(err) });
    }
    const parent = parseTraceparent(f.traceparent);
    const trace = parent && (traces(parent) ? parent : childSpan(parent));
    localAsk(target.admit, clock, msg, clock.now() + f.timeoutMs, trace).then(
      (value) => answer(f.id, { value }),
      (err: unknown) => answer(f.id, { error: ColmenaError.from(err) }),
    );
  };
  const listener = (f: AskFrame) => {
    if (f?.t === "ask") onAsk(f);
    else deps.log.warn({ frame: typeof f }, "thread link: a frame that is not an ask, dropped");
  };
  port.on("message", listener);
  return {
    refuseNew: () => void (refusing = true),
    close: () => {
      port.off("message", listener);
      port.close();
    },
  };
}

/** A node's serving end: `refuseNew` when its intake stops (asks under way are still answered), `close` once they are. */
export interface ThreadLinkServer {
  refuseNew(): void;
  close(): void;
}
