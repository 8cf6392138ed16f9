import type { Clock } from "../supervisors/index.js";
import { ChunkQueue, type ActorStream } from "./actor-stream.js";
import type { Envelope, StreamSink } from "./envelope.js";
import { ColmenaError } from "./errors.js";
import type { Admit } from "./inbound.js";
import type { TraceContext } from "./trace.js";

/**
 * Same-node delivery: the envelope goes straight into the mailbox, with no
 * encoding and no NATS hop, and the same deadline, admission and error
 * semantics as a remote delivery.
 */
export function localTell(admit: Admit, msg: { type: string }, trace: TraceContext | undefined): ColmenaError | undefined {
  return admit({ msg, deadline: Infinity, trace, reply: undefined, stream: undefined });
}

export function localAsk(admit: Admit, clock: Clock, msg: { type: string }, timeoutMs: number, trace: TraceContext | undefined): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new ColmenaError("TIMEOUT", `no answer from ${msg.type} within ${timeoutMs} ms`)), timeoutMs);
    const refused = admit({
      msg,
      deadline: clock.now() + timeoutMs,
      trace,
      stream: undefined,
      reply: {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      },
    });
    if (refused) {
      clearTimeout(timer);
      reject(refused);
    }
  });
}

export function localStream<T>(admit: Admit, clock: Clock, msg: { type: string }, timeoutMs: number, trace: TraceContext | undefined, credit: number): ActorStream<T> {
  const controller = new AbortController();
  let available = credit;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const timer = setTimeout(() => {
    queue.push({ error: new ColmenaError("TIMEOUT", `stream ${msg.type} passed its ${timeoutMs} ms deadline`) });
    controller.abort();
    wake();
  }, timeoutMs);
  const queue = new ChunkQueue<T>(() => {
    clearTimeout(timer);
    controller.abort(new ColmenaError("CANCELLED", "the caller cancelled the stream"));
    wake();
  });
  queue.onConsumed = () => {
    available++;
    wake();
  };
  const done = (item: { end: true } | { error: ColmenaError }) => {
    clearTimeout(timer);
    queue.push(item);
  };
  const sink: StreamSink = {
    signal: controller.signal,
    ready: () => {
      if (available > 0 || controller.signal.aborted) {
        available--;
        return undefined;
      }
      return new Promise<void>((resolve) => {
        waiter = () => {
          available--;
          resolve();
        };
      });
    },
    chunk: (value) => queue.push({ chunk: value }),
    end: () => done({ end: true }),
    fail: (error) => done({ error }),
  };
  const env: Envelope = { msg, deadline: clock.now() + timeoutMs, trace, reply: undefined, stream: sink };
  const refused = admit(env);
  if (refused) done({ error: refused });
  return queue;
}
