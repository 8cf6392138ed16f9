import type { Clock } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";
import type { Envelope, StreamSink } from "../delivery/envelope.js";

export const isAsyncIterable = (v: unknown): v is AsyncIterable<unknown> =>
  typeof v === "object" && v !== null && typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";

/**
 * Moves a streaming handler's chunks to its caller, one per credit: "done"
 * when the handler's iterable ended, "stopped" when the caller cancelled or
 * the deadline passed (the iterable is returned, so the producer's finally
 * blocks run). A handler that throws mid-stream rejects, as a crash would.
 * A handler that returned a plain value for a stream sends it as one chunk.
 */
export async function pump(clock: Clock, kind: string, env: Envelope, sink: StreamSink, value: unknown): Promise<"done" | "stopped"> {
  if (!isAsyncIterable(value)) {
    sink.chunk(value);
    sink.end();
    return "done";
  }
  const it = value[Symbol.asyncIterator]();
  for (;;) {
    const credit = sink.ready();
    if (credit) await credit;
    if (sink.signal.aborted || clock.now() >= env.deadline) {
      await it.return?.();
      if (!sink.signal.aborted) sink.fail(new ColmenaError("TIMEOUT", `deadline passed while streaming ${kind}.${env.msg.type}`));
      return "stopped";
    }
    const next = await it.next();
    if (next.done) break;
    sink.chunk(next.value);
  }
  sink.end();
  return "done";
}
