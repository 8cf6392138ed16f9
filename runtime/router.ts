import type { Clock } from "../supervisors/index.js";
import type { Subjects } from "../nats/subjects.js";
import type { AnyKind } from "./actor-def.js";
import type { ActorCell } from "./actor-cell.js";
import type { ActorStream } from "./actor-stream.js";
import { ColmenaError } from "./errors.js";
import type { KeyedHost, Activation } from "./keyed-host.js";
import type { Admit } from "./inbound.js";
import { localAsk, localStream, localTell } from "./local.js";
import { validateMessage } from "./wire.js";
import type { Logger } from "./logger.js";
import type { Membership } from "./membership.js";
import { isNoResponders } from "../nats/requester.js";
import type { Outbound } from "./outbound.js";
import type { PooledHost } from "./pooled-host.js";
import type { TraceContext } from "./trace.js";

export interface RouterDeps {
  nodeId: string;
  subjects: Subjects;
  outbound: Outbound;
  clock: Clock;
  log: Logger;
  membership: Membership;
  pooled: ReadonlyMap<string, PooledHost>;
  keyed: ReadonlyMap<string, KeyedHost>;
  streamCredit: number;
}

type Msg = { type: string };

/**
 * Decides where a message goes. Same-node first: a local pooled instance
 * below its high watermark, or the local activation of a key, gets the
 * envelope directly. Otherwise NATS: the kind's queue group, or the key's
 * subject; when nobody answers there, the key is activated (here if this
 * node hosts the kind and wins the claim, else on a node that does) and the
 * message is sent again, within the caller's deadline.
 */
export class Router {
  readonly #d: RouterDeps;

  constructor(deps: RouterDeps) {
    this.#d = deps;
  }

  tell(kind: AnyKind, key: string | undefined, msg: Msg, trace: TraceContext | undefined, timeoutMs: number): void {
    if (key === undefined) {
      const host = this.#d.pooled.get(kind.kind);
      const others = this.#othersHost(kind);
      const local = host?.pickLocal(others) ?? (others ? undefined : host?.anyLocal());
      if (local) this.#tellLocal(kind, local, msg, trace, key);
      else this.#d.outbound.tell(this.#d.subjects.pool(kind.kind), msg, trace);
      return;
    }
    const local = this.#d.keyed.get(kind.kind)?.local(key);
    if (local) {
      this.#tellLocal(kind, local, msg, trace, key);
      return;
    }
    this.#viaKey(kind, key, timeoutMs,
      (cell) => {
        const refused = localTell(admitTo(kind, cell), msg, trace);
        if (refused) throw refused;
      },
      (subject, remaining) => this.#d.outbound.tellAcked(subject, msg, { timeoutMs: remaining, trace }),
    ).catch((err: unknown) => this.#undelivered(kind, key, msg, err));
  }

  /** The hot path of same-node tell: validate, admit, no closures. */
  #tellLocal(kind: AnyKind, cell: ActorCell, msg: Msg, trace: TraceContext | undefined, key: string | undefined): void {
    let refused: ColmenaError | undefined;
    try {
      refused = localTell((env) => cell.offer(env), validateMessage(kind, msg), trace);
    } catch (err) {
      refused = ColmenaError.from(err);
    }
    if (refused) this.#undelivered(kind, key, msg, refused);
  }

  #undelivered(kind: AnyKind, key: string | undefined, msg: Msg, err: unknown): void {
    const e = ColmenaError.from(err);
    this.#d.log.warn({ kind: kind.kind, key, msgType: msg.type, code: e.code, err: e.message }, "tell not delivered");
  }

  ask(kind: AnyKind, key: string | undefined, msg: Msg, timeoutMs: number, trace: TraceContext | undefined): Promise<unknown> {
    const { clock, outbound } = this.#d;
    const local = (cell: ActorCell, remaining: number) => localAsk(admitTo(kind, cell), clock, msg, remaining, trace);
    if (key !== undefined) {
      return this.#viaKey(kind, key, timeoutMs, (cell, remaining) => local(cell, remaining), (subject, remaining) => outbound.ask(subject, msg, { timeoutMs: remaining, trace }));
    }
    const host = this.#d.pooled.get(kind.kind);
    const preferred = host?.pickLocal(this.#othersHost(kind));
    if (preferred) return local(preferred, timeoutMs);
    const started = clock.now();
    return outbound.ask(this.#d.subjects.pool(kind.kind), msg, { timeoutMs, trace }).catch((err: unknown) => {
      const fallback = isNoResponders(err) ? host?.anyLocal() : undefined;
      if (fallback) return local(fallback, Math.max(1, timeoutMs - (clock.now() - started)));
      throw isNoResponders(err) ? this.#nobodyTakes(kind) : err;
    });
  }

  stream<T>(kind: AnyKind, key: string | undefined, msg: Msg, timeoutMs: number, trace: TraceContext | undefined): ActorStream<T> {
    const { clock, outbound, streamCredit } = this.#d;
    const local = (cell: ActorCell, remaining: number) => localStream<T>(admitTo(kind, cell), clock, msg, remaining, trace, streamCredit);
    const remote = async (subject: string, remaining: number) => {
      const s = outbound.stream<T>(subject, msg, { timeoutMs: remaining, trace });
      await s.started;
      return s;
    };
    if (key !== undefined) {
      const cell = this.#d.keyed.get(kind.kind)?.local(key);
      if (cell) return local(cell, timeoutMs);
      return deferredStream(() => this.#viaKey(kind, key, timeoutMs, local, remote));
    }
    const host = this.#d.pooled.get(kind.kind);
    const preferred = host?.pickLocal(this.#othersHost(kind));
    if (preferred) return local(preferred, timeoutMs);
    return deferredStream(() =>
      remote(this.#d.subjects.pool(kind.kind), timeoutMs).catch((err: unknown) => {
        const fallback = isNoResponders(err) ? host?.anyLocal() : undefined;
        if (fallback) return local(fallback, timeoutMs);
        throw isNoResponders(err) ? this.#nobodyTakes(kind) : err;
      }),
    );
  }

  #othersHost(kind: AnyKind): boolean {
    return this.#d.membership.othersHosting(kind.kind, this.#d.nodeId) > 0;
  }

  /** Fails what still waits for a reply; called at shutdown. */
  close(): void {
    this.#d.outbound.close();
  }

  /** No pool member is in the queue group: all busy (they left it under backpressure) or none at all. */
  #nobodyTakes(kind: AnyKind): ColmenaError {
    return this.#d.membership.othersHosting(kind.kind, this.#d.nodeId) > 0
      ? new ColmenaError("OVERLOADED", `every instance of ${kind.kind} is busy`, { retryAfterMs: 100 })
      : new ColmenaError("UNAVAILABLE", `no instance of ${kind.kind} is running`, { retryAfterMs: 1_000 });
  }

  /** Runs `local` on this node's activation of the key, or `remote` on the key's subject, activating it when nobody answers. */
  async #viaKey<R>(kind: AnyKind, key: string, timeoutMs: number, local: (cell: ActorCell, remaining: number) => R | Promise<R>, remote: (subject: string, remaining: number) => Promise<R>): Promise<R> {
    const { clock, subjects } = this.#d;
    const deadline = clock.now() + timeoutMs;
    const subject = subjects.keyed(kind.kind, key);
    const host = this.#d.keyed.get(kind.kind);
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw new ColmenaError("TIMEOUT", `${kind.kind}/${key} could not be reached within ${timeoutMs} ms`);
      const cell = host?.local(key);
      if (cell) return local(cell, remaining);
      try {
        return await remote(subject, remaining);
      } catch (err) {
        if (!isNoResponders(err)) throw err;
      }
      const where = await this.#activate(kind, key, deadline - clock.now());
      if ("local" in where) return local(where.local, Math.max(1, deadline - clock.now()));
      // Another node owns the key and is bringing it up: give it a moment, then send again.
      await new Promise((r) => setTimeout(r, Math.min(5 * 2 ** Math.min(attempt, 6), Math.max(1, deadline - clock.now()))));
    }
  }

  async #activate(kind: AnyKind, key: string, remaining: number): Promise<Activation> {
    const host = this.#d.keyed.get(kind.kind);
    if (host) return host.activate(key);
    let reply: { owner?: string; error?: unknown };
    try {
      reply = (await this.#d.outbound.ask(this.#d.subjects.activate(kind.kind), { key }, { timeoutMs: Math.max(1, remaining), trace: undefined })) as typeof reply;
    } catch (err) {
      if (isNoResponders(err)) throw new ColmenaError("UNAVAILABLE", `no node hosts ${kind.kind}`, { retryAfterMs: 1_000 });
      throw err;
    }
    if (reply.error !== undefined) throw ColmenaError.fromWire(reply.error);
    return { owner: String(reply.owner) };
  }
}

/**
 * Same-node admission runs the kind's schemas as the wire does, so a handler
 * sees the same message (defaults applied, unknown fields dropped) however it
 * was sent.
 */
function admitTo(kind: AnyKind, cell: ActorCell): Admit {
  return (env) => {
    let msg: { type: string };
    try {
      msg = validateMessage(kind, env.msg);
    } catch (err) {
      return ColmenaError.from(err);
    }
    return cell.offer({ msg, deadline: env.deadline, trace: env.trace, reply: env.reply, stream: env.stream });
  };
}

/** A stream whose source is found asynchronously (activation, retries); cancel works before and after. */
function deferredStream<T>(open: () => Promise<ActorStream<T>>): ActorStream<T> {
  let inner: ActorStream<T> | undefined;
  let cancelled = false;
  return {
    cancel() {
      cancelled = true;
      inner?.cancel();
    },
    async *[Symbol.asyncIterator]() {
      inner = await open();
      if (cancelled) return inner.cancel();
      try {
        yield* inner;
      } finally {
        inner.cancel();
      }
    },
  };
}
