import { createInbox, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";
import { ALIVE_BEAT_MS, ALIVE_SILENCE_MS, H_ALIVE } from "./wire.js";

interface Pending {
  resolve(m: Msg): void;
  reject(e: ColmenaError): void;
  timer: TimerHandle;
  subject: string;
  /** When the responder last said it was alive (the send, at first); undefined for a request not watched. */
  heard: number | undefined;
}

/** How late the silence sweep may run before this node counts its own event loop as stalled (and its responders' beats as unread, not missing). */
const STALL_MS = ALIVE_BEAT_MS;

/**
 * Request/reply over one wildcard inbox subscription. It does what
 * `nc.request` does, minus the two Error objects (with stack traces) that
 * nats.js builds for every request in case it times out, which dominate a
 * busy caller's CPU profile. Errors here are made only when they happen:
 * TIMEOUT, and UNAVAILABLE with `details.noResponders` for a 503 status.
 * A watched request (an actor's ask, whose responder beats: wire.ts) fails
 * as UNAVAILABLE with `details.responderLost` after ALIVE_SILENCE_MS
 * without a word from its responder: a process that died with the request
 * gives no other sign. One timer sweeps every watched request.
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
  #watched = 0;
  #sweep: TimerHandle | undefined;

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
        if (m.headers?.has(H_ALIVE)) {
          if (p.heard !== undefined) p.heard = this.#clock.now();
          return;
        }
        this.#forget(token, p);
        if (m.headers?.code === 503) p.reject(noResponders(m.subject));
        else p.resolve(m);
      },
    });
  }

  /** `watch`: the responder beats while it works (an actor's ask), so its silence means it is lost. */
  request(subject: string, data: Uint8Array, timeoutMs: number, headers?: MsgHdrs, watch = false): Promise<Msg> {
    const token = (this.#next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = this.#clock.setTimeout(() => {
        this.#forget(token, p);
        reject(new ColmenaError("TIMEOUT", `no answer from ${subject} within ${timeoutMs} ms`));
      }, timeoutMs);
      const p: Pending = { resolve, reject, timer, subject, heard: watch ? this.#clock.now() : undefined };
      this.#pending.set(token, p);
      if (watch && this.#watched++ === 0) this.#scheduleSweep();
      try {
        this.#nc.publish(subject, data, headers ? { reply: this.#prefix + token, headers } : { reply: this.#prefix + token });
      } catch (err) {
        this.#forget(token, p);
        reject(new ColmenaError("UNAVAILABLE", `request to ${subject} failed: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  /** Takes a request out of the table, whatever ends it. */
  #forget(token: string, p: Pending): void {
    if (!this.#pending.delete(token)) return;
    this.#clock.clearTimeout(p.timer);
    if (p.heard !== undefined && --this.#watched === 0 && this.#sweep !== undefined) {
      this.#clock.clearTimeout(this.#sweep);
      this.#sweep = undefined;
    }
  }

  #scheduleSweep(): void {
    const due = this.#clock.now() + ALIVE_BEAT_MS;
    this.#sweep = this.#clock.setTimeout(() => this.#silenceSweep(due), ALIVE_BEAT_MS);
  }

  /** Fails the watched requests whose responders went silent; a sweep that runs late means this node stalled, so it only starts their silence afresh. */
  #silenceSweep(due: number): void {
    const now = this.#clock.now();
    const stalled = now - due > STALL_MS;
    for (const [token, p] of this.#pending) {
      if (p.heard === undefined) continue;
      if (stalled) p.heard = now;
      else if (now - p.heard > ALIVE_SILENCE_MS) {
        this.#forget(token, p);
        p.reject(responderLost(p.subject, now - p.heard));
      }
    }
    if (this.#watched > 0) this.#scheduleSweep();
    else this.#sweep = undefined;
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
        for (const [token, p] of [...this.#pending]) {
          this.#forget(token, p);
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
    for (const [token, p] of [...this.#pending]) {
      this.#forget(token, p);
      p.reject(new ColmenaError("UNAVAILABLE", "the connection is closing"));
    }
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

export const responderLost = (subject: string, silentMs: number) =>
  new ColmenaError("UNAVAILABLE", `the responder on ${subject} went silent for ${silentMs} ms while working on the request`, {
    retryAfterMs: 100,
    details: { responderLost: true, subject },
  });

/** As with a lost connection, the request may or may not have been handled. */
export const isResponderLost = (err: unknown) => err instanceof ColmenaError && err.details?.responderLost === true;
