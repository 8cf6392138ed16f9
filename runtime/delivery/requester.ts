import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";

interface Pending {
  resolve(m: Msg): void;
  reject(e: ColmenaError): void;
  timer: TimerHandle;
}

/**
 * Request/reply over one wildcard inbox subscription. It does what
 * `nc.request` does, minus the two Error objects (with stack traces) that
 * nats.js builds for every request in case it times out, which dominate a
 * busy caller's CPU profile. Errors here are made only when they happen:
 * TIMEOUT, and UNAVAILABLE with `details.noResponders` for a 503 status.
 */
export class Requester {
  readonly #nc: NatsConnection;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #pending = new Map<string, Pending>();
  readonly #sub: Subscription;
  readonly #status: AsyncIterable<{ type: string }> & { stop?(): void };
  #connected = true;
  #reconnectWaiters: Array<() => void> = [];
  #next = 0;

  /** `inboxPrefix`: the node's (see inboxPrefix in contract/subjects.ts), which its NATS user may read. */
  constructor(nc: NatsConnection, clock: Clock, inboxPrefix: string) {
    this.#nc = nc;
    this.#clock = clock;
    this.#prefix = `${createInbox(inboxPrefix)}.`;
    // The iterator nats.js returns can be stopped, though its type does not say so.
    this.#status = nc.status() as AsyncIterable<{ type: string }> & { stop?(): void };
    void this.#failOnDisconnect(this.#status);
    this.#sub = nc.subscribe(`${this.#prefix}*`, {
      callback: (err, m) => {
        if (err) return;
        const token = m.subject.slice(this.#prefix.length);
        const p = this.#pending.get(token);
        if (!p) return; // late reply to a request that already timed out
        this.#pending.delete(token);
        this.#clock.clearTimeout(p.timer);
        if (m.headers?.code === 503) p.reject(noResponders(m.subject));
        else p.resolve(m);
      },
    });
  }

  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs): Promise<Msg> {
    const token = (this.#next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#pending.delete(token);
        reject(new ColmenaError("TIMEOUT", `no answer from ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(token, { resolve, reject, timer });
      try {
        this.#nc.publish(subject, data, headers ? { reply: this.#prefix + token, headers } : { reply: this.#prefix + token });
      } catch (err) {
        this.#pending.delete(token);
        this.#clock.clearTimeout(timer);
        reject(new ColmenaError("UNAVAILABLE", `request to ${subject} failed: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  /**
   * A reply on its way through the server this connection lost may never
   * come: every request waiting then fails at once, retryable, instead of
   * at its deadline (the caller may retry an idempotent one elsewhere).
   */
  async #failOnDisconnect(status: AsyncIterable<{ type: string }>): Promise<void> {
    try {
      for await (const s of status) {
        if (s.type === "reconnect") {
          this.#connected = true;
          for (const w of this.#reconnectWaiters.splice(0)) w();
        }
        if (s.type !== "disconnect") continue;
        this.#connected = false;
        const pending = [...this.#pending.values()];
        this.#pending.clear();
        for (const p of pending) {
          this.#clock.clearTimeout(p.timer);
          p.reject(connectionLost());
        }
      }
    } catch {
      // the connection closed: close() rejects what is left
    }
  }

  /**
   * Resolves once the connection is up again (at once when it is), or after
   * `ms`: a request sent again before the reconnect may be lost with the
   * client's buffer, so a retry waits for it.
   */
  connected(ms: number): Promise<void> {
    if (this.#connected) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(resolve, ms);
      this.#reconnectWaiters.push(() => {
        this.#clock.clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.#status.stop?.();
    for (const w of this.#reconnectWaiters.splice(0)) w();
    this.#sub.unsubscribe();
    for (const p of this.#pending.values()) {
      this.#clock.clearTimeout(p.timer);
      p.reject(new ColmenaError("UNAVAILABLE", "the connection is closing"));
    }
    this.#pending.clear();
  }
}

/** No subscriber on the subject: the router reacts (activation, fallback) before a caller sees it. */
export const noResponders = (subject: string) =>
  new ColmenaError("UNAVAILABLE", `no actor answers on ${subject}`, { details: { noResponders: true, subject } });

export const isNoResponders = (err: unknown) => err instanceof ColmenaError && err.details?.noResponders === true;

const connectionLost = () =>
  new ColmenaError("UNAVAILABLE", "the connection to the NATS server was lost while waiting for the answer", { retryAfterMs: 100, details: { connectionLost: true } });

/** The request may or may not have been handled: only an idempotent one may be sent again. */
export const isConnectionLost = (err: unknown) => err instanceof ColmenaError && err.details?.connectionLost === true;
