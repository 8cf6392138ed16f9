import type { Clock } from "../../supervisors/index.js";
import type { ActorAddress } from "../contract/address.js";
import type { OwnerLost } from "../contract/scope.js";
import { ColmenaError } from "../contract/errors.js";
import type { ActorStream } from "../contract/stream.js";
import type { Subjects } from "../contract/subjects.js";
import type { Logger } from "../observe/logger.js";
import type { TraceContext } from "../observe/trace.js";
import { endSpan, traces, type Span } from "../observe/tracing.js";
import { sleep } from "../time/deadline.js";
import type { Admit } from "./envelope.js";
import { destinationOf, producerSpan, type Destination } from "./hop-spans.js";
import { localAsk, localStream, localTell } from "./local.js";
import type { Outbound } from "./outbound.js";
import { isConnectionLost, isNoResponders, isResponderLost } from "./requester.js";
import type { PoolBalancer } from "./balancer.js";
import type { Activation, KeyedTargets, LocalTarget, PooledTargets } from "./targets.js";
import type { ThreadLink } from "./thread-link.js";
import { validateMessage } from "./wire.js";

export interface RouterDeps {
  nodeId: string;
  subjects: Subjects;
  outbound: Outbound;
  clock: Clock;
  log: Logger;
  /** How many other live nodes host a kind. */
  othersHosting(kind: string): number;
  /** Whether a node is announced as a live host of a kind, not draining. */
  announcedHost(kind: string, node: string): boolean;
  /** Where pooled asks and streams go. */
  balancer: PoolBalancer;
  pooled: ReadonlyMap<string, PooledTargets>;
  keyed: ReadonlyMap<string, KeyedTargets>;
  /** Nodes in other threads of this process, by id: a pooled ask routed to one goes over its link, not NATS. */
  links: ReadonlyMap<string, ThreadLink>;
  streamCredit: number;
}

type Msg = { type: string };

/** How long a look at a key owner's activation subject may take; a live owner answers once the key is up. */
const OWNER_PROBE_MS = 2_000;

/**
 * Decides where a message goes. Same-node first: a local pooled instance
 * below its high watermark, or the local activation of a key, gets the
 * envelope directly. Otherwise NATS: the kind's queue group, or the key's
 * subject; when nobody answers there, the key is activated (here if this
 * node hosts the kind and wins the claim, else on a node that does) and the
 * message is sent again, within the caller's deadline. Deadlines are on the
 * node's clock throughout. A keyed send that may fail over (`ownerLost:
 * "fail"`) fails at once when the key's owner is found lost, rather than
 * waiting for its lease to lapse.
 */
export class Router {
  readonly #d: RouterDeps;
  /** A pooled kind's destination is the same for every send: made once. */
  readonly #pooledDestinations = new Map<string, Destination>();

  constructor(deps: RouterDeps) {
    this.#d = deps;
  }

  tell(address: ActorAddress, key: string | undefined, msg: Msg, trace: TraceContext | undefined, deadline: number): void {
    if (traces(trace)) {
      // A tell's span covers its sending: nothing comes back to end it later.
      const span = producerSpan("publish", this.#destination(address, key), address, msg.type, trace);
      this.#tell(address, key, msg, span.spanContext(), deadline);
      endSpan(span);
      return;
    }
    this.#tell(address, key, msg, trace, deadline);
  }

  #tell(address: ActorAddress, key: string | undefined, msg: Msg, trace: TraceContext | undefined, deadline: number): void {
    if (key === undefined) {
      const host = this.#d.pooled.get(address.kind);
      const others = this.#othersHost(address);
      const local = host?.pickLocal(others) ?? (others ? undefined : host?.anyLocal());
      if (local) this.#tellLocal(address, local, msg, trace, key);
      else this.#d.outbound.tell(this.#d.subjects.pool(address.kind), msg, trace);
      return;
    }
    const local = this.#d.keyed.get(address.kind)?.local(key);
    if (local) {
      this.#tellLocal(address, local, msg, trace, key);
      return;
    }
    this.#viaKey(address, key, deadline, "wait",
      (target) => {
        const refused = localTell(admitTo(address, target), msg, trace);
        if (refused) throw refused;
      },
      (subject) => this.#d.outbound.tellAcked(subject, msg, { deadline, trace }),
    ).catch((err: unknown) => this.#undelivered(address, key, msg, err));
  }

  /** The hot path of same-node tell: validate, admit, no closures. */
  #tellLocal(address: ActorAddress, target: LocalTarget, msg: Msg, trace: TraceContext | undefined, key: string | undefined): void {
    let refused: ColmenaError | undefined;
    try {
      refused = localTell(target.admit, validateMessage(address, msg), trace);
    } catch (err) {
      refused = ColmenaError.from(err);
    }
    if (refused) this.#undelivered(address, key, msg, refused);
  }

  #undelivered(address: ActorAddress, key: string | undefined, msg: Msg, err: unknown): void {
    const e = ColmenaError.from(err);
    this.#d.log.warn({ kind: address.kind, key, msgType: msg.type, code: e.code, err: e.message }, "tell not delivered");
  }

  ask(address: ActorAddress, key: string | undefined, msg: Msg, deadline: number, trace: TraceContext | undefined, ownerLost: OwnerLost = "wait"): Promise<unknown> {
    if (!traces(trace)) return this.#ask(address, key, msg, deadline, trace, ownerLost);
    const span = producerSpan("request", this.#destination(address, key), address, msg.type, trace);
    const answer = this.#ask(address, key, msg, deadline, span.spanContext(), ownerLost);
    answer.then(
      () => endSpan(span),
      (err: unknown) => endSpan(span, err),
    );
    return answer;
  }

  #ask(address: ActorAddress, key: string | undefined, msg: Msg, deadline: number, trace: TraceContext | undefined, ownerLost: OwnerLost): Promise<unknown> {
    const { clock, outbound } = this.#d;
    const local = (target: LocalTarget) => localAsk(admitTo(address, target), clock, msg, deadline, trace);
    if (key !== undefined) return this.#viaKey(address, key, deadline, ownerLost, local, (subject) => outbound.ask(subject, msg, { deadline, trace }));
    return this.#askPooled(address, msg, deadline, trace).catch((err: unknown) => {
      // Pooled work is interchangeable and an ask has streamed nothing to anyone yet: one more try, routed afresh.
      if ((isConnectionLost(err) || isResponderLost(err)) && deadline > clock.now()) return outbound.connected(deadline).then(() => this.#askPooled(address, msg, deadline, trace));
      throw err;
    });
  }

  #askPooled(address: ActorAddress, msg: Msg, deadline: number, trace: TraceContext | undefined): Promise<unknown> {
    const { clock, outbound } = this.#d;
    const local = (target: LocalTarget) => localAsk(admitTo(address, target), clock, msg, deadline, trace);
    const host = this.#d.pooled.get(address.kind);
    const route = this.#d.balancer.route(address.kind, host);
    if (route && "local" in route) return local(route.local);
    const viaPool = () =>
      outbound.ask(this.#d.subjects.pool(address.kind), msg, { deadline, trace }).catch((err: unknown) => {
        const fallback = isNoResponders(err) ? host?.anyLocal() : undefined;
        if (fallback) return local(fallback);
        throw isNoResponders(err) ? this.#nobodyTakes(address) : err;
      });
    if (route === undefined) return viaPool();
    const settled = this.#d.balancer.sent(route.node, address.kind);
    const link = this.#d.links.get(route.node);
    if (link) return link.ask(address.kind, msg, deadline, trace).finally(settled);
    return outbound
      .ask(this.#d.subjects.poolOn(route.node, address.kind), msg, { deadline, trace })
      .catch((err: unknown) => {
        // The chosen node left or is too busy to subscribe: the queue group finds whoever can take it.
        if (isNoResponders(err)) return viaPool();
        throw err;
      })
      .finally(settled);
  }

  stream<T>(address: ActorAddress, key: string | undefined, msg: Msg, deadline: number, trace: TraceContext | undefined, ownerLost: OwnerLost = "wait"): ActorStream<T> {
    if (!traces(trace)) return this.#stream(address, key, msg, deadline, trace, ownerLost);
    const span = producerSpan("request", this.#destination(address, key), address, msg.type, trace);
    return spannedStream(this.#stream<T>(address, key, msg, deadline, span.spanContext(), ownerLost), span);
  }

  #stream<T>(address: ActorAddress, key: string | undefined, msg: Msg, deadline: number, trace: TraceContext | undefined, ownerLost: OwnerLost): ActorStream<T> {
    const { clock, outbound, streamCredit } = this.#d;
    const local = (target: LocalTarget) => localStream<T>(admitTo(address, target), clock, msg, deadline, trace, streamCredit);
    const remote = async (subject: string) => {
      const s = outbound.stream<T>(subject, msg, { deadline, trace });
      await s.started;
      return s;
    };
    if (key !== undefined) {
      const target = this.#d.keyed.get(address.kind)?.local(key);
      if (target) return local(target);
      return deferredStream(() => this.#viaKey(address, key, deadline, ownerLost, local, remote));
    }
    const host = this.#d.pooled.get(address.kind);
    const route = this.#d.balancer.route(address.kind, host);
    if (route && "local" in route) return local(route.local);
    const viaPool = () =>
      remote(this.#d.subjects.pool(address.kind)).catch((err: unknown) => {
        const fallback = isNoResponders(err) ? host?.anyLocal() : undefined;
        if (fallback) return local(fallback);
        throw isNoResponders(err) ? this.#nobodyTakes(address) : err;
      });
    if (route === undefined) return deferredStream(viaPool);
    const { node } = route;
    // A stream counts against its node until it ends: that long it holds a slot there.
    return deferredStream(
      () =>
        remote(this.#d.subjects.poolOn(node, address.kind)).catch((err: unknown) => {
          if (isNoResponders(err)) return viaPool();
          throw err;
        }),
      this.#d.balancer.sent(node, address.kind),
    );
  }

  #destination(address: ActorAddress, key: string | undefined): Destination {
    if (key !== undefined) return destinationOf(this.#d.subjects, address, key);
    let d = this.#pooledDestinations.get(address.kind);
    if (d === undefined) this.#pooledDestinations.set(address.kind, (d = destinationOf(this.#d.subjects, address, undefined)));
    return d;
  }

  #othersHost(address: ActorAddress): boolean {
    return this.#d.othersHosting(address.kind) > 0;
  }

  /** Fails what still waits for a reply; called at shutdown. */
  close(): void {
    this.#d.outbound.close();
    for (const link of this.#d.links.values()) link.close();
  }

  /** No pool member is in the queue group: all busy (they left it under backpressure) or none at all. */
  #nobodyTakes(address: ActorAddress): ColmenaError {
    return this.#othersHost(address)
      ? new ColmenaError("OVERLOADED", `every instance of ${address.kind} is busy`, { retryAfterMs: 100 })
      : new ColmenaError("UNAVAILABLE", `no instance of ${address.kind} is running`, { retryAfterMs: 1_000 });
  }

  /**
   * Runs `local` on this node's activation of the key, or `remote` on the
   * key's subject, activating it when nobody answers; with `ownerLost`
   * "fail", a lost owner (#ownerGone) fails it at once.
   */
  async #viaKey<R>(
    address: ActorAddress,
    key: string,
    deadline: number,
    ownerLost: OwnerLost,
    local: (target: LocalTarget) => R | Promise<R>,
    remote: (subject: string) => Promise<R>,
  ): Promise<R> {
    const { clock, subjects } = this.#d;
    const subject = subjects.keyed(address.kind, key);
    const host = this.#d.keyed.get(address.kind);
    for (let attempt = 0; ; attempt++) {
      if (deadline - clock.now() <= 0) throw new ColmenaError("TIMEOUT", `${address.kind}/${key} could not be reached before its deadline`);
      const target = host?.local(key);
      if (target) return local(target);
      try {
        return await remote(subject);
      } catch (err) {
        if (!isNoResponders(err)) throw err;
      }
      const where = await this.#activate(address, key, deadline);
      if ("local" in where) return local(where.local);
      if (ownerLost === "fail" && (await this.#ownerGone(address, key, where.owner, deadline))) {
        throw new ColmenaError("UNAVAILABLE", `${address.kind}/${key} is held by ${where.owner}, whose connection is gone; its lease has yet to lapse`, {
          retryAfterMs: 1_000,
          details: { ownerLost: where.owner },
        });
      }
      // Another node owns the key and is bringing it up: give it a moment, then send again.
      await sleep(clock, Math.min(5 * 2 ** Math.min(attempt, 6), Math.max(1, deadline - clock.now())));
    }
  }

  /**
   * The key's owner is still announced as a host of the kind (not draining,
   * its lease not lapsed), yet nothing listens on its node's activation
   * subject: its connection is gone. A live owner answers there (once the key
   * is up: the probe is an activation request), and a draining one is not
   * announced, so both are waited for.
   */
  async #ownerGone(address: ActorAddress, key: string, owner: string, deadline: number): Promise<boolean> {
    if (!this.#d.announcedHost(address.kind, owner)) return false;
    const { clock, outbound, subjects } = this.#d;
    try {
      await outbound.askHost(subjects.activateOn(owner, address.kind), { key, direct: true }, { deadline: Math.min(deadline, clock.now() + OWNER_PROBE_MS), trace: undefined });
      return false;
    } catch (err) {
      return isNoResponders(err);
    }
  }

  async #activate(address: ActorAddress, key: string, deadline: number): Promise<Activation> {
    const host = this.#d.keyed.get(address.kind);
    if (host) return host.activate(key);
    let reply: { owner?: string; error?: unknown };
    try {
      reply = (await this.#d.outbound.askHost(this.#d.subjects.activate(address.kind), { key }, { deadline: Math.max(deadline, this.#d.clock.now() + 1), trace: undefined })) as typeof reply;
    } catch (err) {
      if (isNoResponders(err)) throw new ColmenaError("UNAVAILABLE", `no node hosts ${address.kind}`, { retryAfterMs: 1_000 });
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
function admitTo(address: ActorAddress, target: LocalTarget): Admit {
  return (env) => {
    let msg: { type: string };
    try {
      msg = validateMessage(address, env.msg);
    } catch (err) {
      return ColmenaError.from(err);
    }
    return target.admit({ msg, deadline: env.deadline, trace: env.trace, reply: env.reply, stream: env.stream });
  };
}

/** A stream whose producer span ends with it: at its end, its error, or its cancel. */
function spannedStream<T>(inner: ActorStream<T>, span: Span): ActorStream<T> {
  let ended = false;
  const end = (err?: unknown) => {
    if (ended) return;
    ended = true;
    endSpan(span, err);
  };
  return {
    cancel() {
      inner.cancel();
      end();
    },
    async *[Symbol.asyncIterator]() {
      try {
        yield* inner;
        end();
      } catch (err) {
        end(err);
        throw err;
      } finally {
        end();
      }
    },
  };
}

/** A stream whose source is found asynchronously (activation, retries); cancel works before and after. */
function deferredStream<T>(open: () => Promise<ActorStream<T>>, onEnd?: () => void): ActorStream<T> {
  let inner: ActorStream<T> | undefined;
  let cancelled = false;
  let iterating = false;
  return {
    cancel() {
      cancelled = true;
      inner?.cancel();
      if (!iterating) onEnd?.();
    },
    async *[Symbol.asyncIterator]() {
      iterating = true;
      try {
        inner = await open();
        if (cancelled) return inner.cancel();
        try {
          yield* inner;
        } finally {
          inner.cancel();
        }
      } finally {
        onEnd?.();
      }
    },
  };
}
