import type { Clock } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";
import type { ActorStream } from "../contract/stream.js";
import type { TraceContext } from "../observe/trace.js";
import { remainingMs } from "../time/deadline.js";
import { ChunkQueue } from "./chunk-queue.js";
import { Credit } from "./credit.js";
import type { Admit, StreamSink } from "./envelope.js";

/**
 * Same-node delivery: the envelope goes straight into the mailbox, with no
 * encoding and no NATS hop, and the same deadline, admission and error
 * semantics as a remote delivery.
 */
export function localTell(admit: Admit, msg: { type: string }, trace: TraceContext | undefined): ColmenaError | undefined {
  return admit({ msg, deadline: Infinity, trace, reply: undefined, stream: undefined });
}

export function localAsk(admit: Admit, clock: Clock, msg: { type: string }, deadline: number, trace: TraceContext | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timeoutMs = remainingMs(clock, deadline);
    const timer = clock.setTimeout(() => reject(new ColmenaError("TIMEOUT", `no answer from ${msg.type} within ${timeoutMs} ms`)), timeoutMs);
    const refused = admit({
      msg,
      deadline,
      trace,
      stream: undefined,
      reply: {
        resolve: (value) => {
          clock.clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clock.clearTimeout(timer);
          reject(error);
        },
      },
    });
    if (refused) {
      clock.clearTimeout(timer);
      reject(refused);
    }
  });
}

export function localStream<T>(admit: Admit, clock: Clock, msg: { type: string }, deadline: number, trace: TraceContext | undefined, initialCredit: number): ActorStream<T> {
  const controller = new AbortController();
  const credit = new Credit(initialCredit);
  const timeoutMs = remainingMs(clock, deadline);
  const timer = clock.setTimeout(() => {
    queue.push({ error: new ColmenaError("TIMEOUT", `stream ${msg.type} passed its ${timeoutMs} ms deadline`) });
    controller.abort();
    credit.release();
  }, timeoutMs);
  const queue = new ChunkQueue<T>(() => {
    clock.clearTimeout(timer);
    controller.abort(new ColmenaError("CANCELLED", "the caller cancelled the stream"));
    credit.release();
  });
  queue.onConsumed = () => credit.grant(1);
  const done = (item: { end: true } | { error: ColmenaError }) => {
    clock.clearTimeout(timer);
    queue.push(item);
  };
  const sink: StreamSink = {
    signal: controller.signal,
    ready: () => credit.take(),
    chunk: (value) => queue.push({ chunk: value }),
    end: () => done({ end: true }),
    fail: (error) => done({ error }),
  };
  const refused = admit({ msg, deadline, trace, reply: undefined, stream: sink });
  if (refused) done({ error: refused });
  return queue;
}
