import { once } from "node:events";
import { PassThrough } from "node:stream";
import type { FastifyReply } from "fastify";

/**
 * A Server-Sent Events response. Fastify pipes `body` to the socket, so the
 * request's hooks and metrics see it like any other response, and
 * @fastify/compress leaves `text/event-stream` alone. Each write waits for
 * the socket to drain (a slow reader slows the producer rather than growing a
 * buffer); once the client is gone, writes are dropped.
 */
export class EventStream {
  readonly #body = new PassThrough();
  readonly #signal: AbortSignal;
  readonly #heartbeat: NodeJS.Timeout | undefined;

  constructor(reply: FastifyReply, signal: AbortSignal, heartbeatMs: number) {
    this.#signal = signal;
    this.#body.on("error", () => undefined); // fastify destroys the body when the socket closes
    reply
      .code(200)
      .header("content-type", "text/event-stream; charset=utf-8")
      .header("cache-control", "no-cache, no-transform")
      .header("x-accel-buffering", "no"); // nginx: do not buffer the stream
    void reply.send(this.#body);
    if (heartbeatMs > 0) {
      this.#heartbeat = setInterval(() => this.#write(": keep-alive\n\n"), heartbeatMs);
      this.#heartbeat.unref();
    }
  }

  /** False once the client is gone or the stream ended. (A passed deadline leaves it open for the error event.) */
  get open(): boolean {
    return !this.#body.destroyed && !this.#body.writableEnded;
  }

  /** One event: `event: <name>` (when named) and one `data:` line of JSON. */
  send(data: unknown, event?: string): Promise<void> {
    return this.sendRaw(JSON.stringify(data), event);
  }

  /** One event whose data is sent as is (OpenAI's `data: [DONE]`). `data` must not hold a newline. */
  async sendRaw(data: string, event?: string): Promise<void> {
    const frame = event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`;
    if (this.#write(frame)) return;
    if (!this.open) return;
    try {
      await once(this.#body, "drain", { signal: this.#signal });
    } catch {
      // the client left while we waited: nothing more will be read
    }
  }

  end(): void {
    if (this.#heartbeat !== undefined) clearInterval(this.#heartbeat);
    if (!this.#body.destroyed && !this.#body.writableEnded) this.#body.end();
  }

  /** False when the write was buffered above the high-water mark (or dropped). */
  #write(frame: string): boolean {
    if (!this.open) return true;
    return this.#body.write(frame);
  }
}
