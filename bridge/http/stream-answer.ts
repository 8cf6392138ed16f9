import type { FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { QueryEvent } from "../../actors/index.js";
import { closeQuietly, untilAborted } from "../abortable.js";
import { toEdgeError, type EdgeError } from "../errors.js";
import { EventStream } from "./event-stream.js";
import type { RequestScope } from "./request-scope.js";

/** How one API renders a streamed answer as events (Colmena's own, or OpenAI chunks). */
export interface AnswerRenderer {
  event(event: QueryEvent, out: EventStream): Promise<void>;
  /** A failure after the stream started: the status line is gone, so it travels as an event. */
  error(error: EdgeError, out: EventStream): Promise<void>;
  /** The producer finished (after `done`, or without it). */
  end(out: EventStream): Promise<void>;
}

/**
 * Answers with an event stream. The first event is awaited before the
 * response starts, so a request refused at once (OVERLOADED, INVALID, ...)
 * gets its proper status and JSON error instead of a 200 stream. The rest is
 * pumped in the background under the request's signal: a client that leaves
 * or a deadline that passes stops the producer.
 */
export async function streamAnswer(
  reply: FastifyReply,
  scope: RequestScope,
  events: AsyncIterable<QueryEvent>,
  render: AnswerRenderer,
  options: { heartbeatMs: number; log: Logger },
): Promise<FastifyReply> {
  const iterator = events[Symbol.asyncIterator]();
  let first: IteratorResult<QueryEvent>;
  try {
    first = await scope.guard(iterator.next());
  } catch (err) {
    closeQuietly(iterator);
    throw err;
  }
  const out = new EventStream(reply, scope.signal, options.heartbeatMs);
  void (async () => {
    try {
      if (first.done !== true) {
        await render.event(first.value, out);
        for await (const event of untilAborted(iterator, scope.signal)) await render.event(event, out);
      }
      await render.end(out);
    } catch (err) {
      const answer = toEdgeError(err);
      if (answer.unexpected) options.log.error({ err }, "streamed answer failed");
      if (out.open) await render.error(answer, out).catch(() => undefined);
    } finally {
      closeQuietly(iterator);
      out.end();
    }
  })();
  return reply;
}
