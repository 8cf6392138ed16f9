import type { FastifyReply } from "fastify";

/**
 * Runs `then` once, when the response has ended in any way: sent in full,
 * or its connection closed before that (the client left, its body was
 * malformed, the socket failed). The response's `close` is that one moment;
 * a response already closed when this is called (the client left before the
 * hook ran) runs `then` at once. What is held for a request — an admission
 * slot, the in-flight gauge, the scope's timer — is given back here.
 */
export function onceEnded(reply: FastifyReply, then: (finished: boolean) => void): void {
  const res = reply.raw;
  if (res.closed) {
    then(res.writableFinished);
    return;
  }
  res.once("close", () => then(res.writableFinished));
}
