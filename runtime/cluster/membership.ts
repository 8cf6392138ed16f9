import { EventEmitter } from "node:events";
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { Clock, TimerHandle } from "../../supervisors/index.js";
import type { Codec } from "../../nats/index.js";
import type { Logger } from "../observe/logger.js";
import { readNodeInfo, type NodeInfo, type PoolLoad } from "./entries.js";
import type { MalformedEntries } from "./malformed.js";

export type { NodeInfo, PoolLoad } from "./entries.js";

/** Another node's pool of a kind, as its last heartbeat announced it. */
export interface RemotePool {
  node: string;
  load: PoolLoad;
}

/**
 * join, update and leave: what the watch sees of other nodes. fenced: this
 * node's heartbeats have failed for a whole lease, so its entry has expired
 * and other nodes may be taking its keys; rejoined: a heartbeat got through
 * again after that.
 */
export type MembershipEvents = { join: [NodeInfo]; leave: [string]; update: [NodeInfo]; fenced: []; rejoined: [] };

export interface MembershipOptions {
  self: () => NodeInfo;
  heartbeatMs: number;
  leaseMs: number;
  clock: Clock;
  log: Logger;
  malformed: MalformedEntries;
}

/**
 * Node membership over a KV bucket whose entries expire after the lease: each
 * node puts its info every heartbeat; a node that stops (or dies) disappears
 * after the lease, or at once when it leaves cleanly. Every node watches the
 * bucket and emits join, update and leave.
 *
 * Every entry is validated before it counts (entries.ts); a malformed one is
 * reported and skipped. Nothing here can reject unobserved: the watch, the
 * heartbeat and the lease sweep catch and log their own failures, and a
 * listener that throws is logged, not rethrown into a timer.
 *
 * Self-fencing: a lease measured from the moment the last successful
 * heartbeat was sent ends no later than the server's expiry of that entry;
 * when it ends with no newer heartbeat through, the node emits `fenced`
 * (the keyed hosts passivate everything), so a partition never leaves a
 * key active on a node the others no longer see.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #kv: KV;
  readonly #codec: Codec;
  readonly #o: MembershipOptions;
  readonly #members = new Map<string, { info: NodeInfo; seen: number }>();
  readonly #hosts = new Map<string, Set<string>>();
  #timer: TimerHandle | undefined;
  #fence: TimerHandle | undefined;
  #fenced = false;
  #watch: { stop(): void } | undefined;

  constructor(kv: KV, codec: Codec, options: MembershipOptions) {
    super();
    this.#kv = kv;
    this.#codec = codec;
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.#beat();
    const watch = await this.#kv.watch();
    this.#watch = watch;
    void (async () => {
      for await (const e of watch) this.#entry(e);
    })().catch((err: unknown) => this.#o.log.error({ err }, "the membership watch ended; members are now seen only until their leases lapse"));
    this.#schedule();
  }

  /** Members seen within the lease as of their last heartbeat; this node as it is now. */
  nodes(): NodeInfo[] {
    const self = this.#o.self();
    return [...this.#members.values()].map((m) => (m.info.id === self.id ? self : m.info));
  }

  /** Whether this node's heartbeats have failed for longer than the lease (see the class note). */
  get fenced(): boolean {
    return this.#fenced;
  }

  /** Other live nodes' pools of a kind, as announced; draining nodes left out. */
  pools(kind: string, selfId: string): RemotePool[] {
    const hosts = this.#hosts.get(kind);
    if (hosts === undefined) return [];
    const out: RemotePool[] = [];
    for (const id of hosts) {
      if (id === selfId) continue;
      const info = this.#members.get(id)?.info;
      const load = info?.load.pools?.[kind];
      if (info && info.draining !== true && load !== undefined && load.slots > 0) out.push({ node: id, load });
    }
    return out;
  }

  /** Live nodes hosting a kind, this one included, draining ones left out: where keyed activations are placed. */
  hostsOf(kind: string): string[] {
    const hosts = this.#hosts.get(kind);
    if (hosts === undefined) return [];
    return [...hosts].filter((id) => this.#members.get(id)?.info.draining !== true);
  }

  /** Puts this node's info now rather than at the next heartbeat (a change others must see soon: draining). */
  announce(): Promise<void> {
    return this.#beat();
  }

  /** Authoritative: the node's lease entry is still in the bucket, and is a valid one. */
  async isAlive(nodeId: string): Promise<boolean> {
    const entry = await this.#kv.get(nodeId);
    if (entry === null || entry.operation !== "PUT") return false;
    try {
      readNodeInfo(this.#codec, nodeId, entry.value);
      return true;
    } catch (err) {
      this.#o.malformed.report("membership", entry.key, entry.revision, err);
      return false;
    }
  }

  /** Other live nodes hosting a kind (kept per kind, so routing asks it per message for free). */
  othersHosting(kind: string, selfId: string): number {
    const hosts = this.#hosts.get(kind);
    return hosts === undefined ? 0 : hosts.size - (hosts.has(selfId) ? 1 : 0);
  }

  async stop(): Promise<void> {
    const { clock } = this.#o;
    if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
    if (this.#fence !== undefined) clock.clearTimeout(this.#fence);
    this.#timer = undefined;
    this.#fence = undefined;
    this.#watch?.stop();
    try {
      await this.#kv.delete(this.#o.self().id);
    } catch (err) {
      this.#o.log.warn({ err }, "could not remove the membership entry; it expires after the lease");
    }
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimeout(() => void this.#tick(), this.#o.heartbeatMs);
  }

  /** One heartbeat and sweep; it never rejects, and the next one is always scheduled (until stop). */
  async #tick(): Promise<void> {
    try {
      await this.#beat();
    } catch (err) {
      this.#o.log.warn({ err }, "membership heartbeat failed");
    }
    try {
      this.#sweep();
    } catch (err) {
      this.#o.log.error({ err }, "membership sweep failed");
    }
    if (this.#timer !== undefined) this.#schedule();
  }

  async #beat(): Promise<void> {
    const info = this.#o.self();
    const sentAt = this.#o.clock.now();
    await this.#kv.put(info.id, this.#codec.encode(info));
    this.#renewed(sentAt);
  }

  #renewed(sentAt: number): void {
    const { clock, leaseMs } = this.#o;
    if (this.#fence !== undefined) clock.clearTimeout(this.#fence);
    this.#fence = clock.setTimeout(() => {
      this.#fence = undefined;
      if (this.#fenced) return;
      this.#fenced = true;
      this.#o.log.error({ leaseMs }, "membership heartbeats have failed for a whole lease: passivating this node's keyed actors");
      this.#emit("fenced");
    }, Math.max(0, sentAt + leaseMs - clock.now()));
    if (this.#fenced) {
      this.#fenced = false;
      this.#o.log.warn("membership heartbeats get through again");
      this.#emit("rejoined");
    }
  }

  #entry(e: KvWatchEntry): void {
    if (e.operation !== "PUT") {
      this.#left(e.key);
      return;
    }
    let info: NodeInfo;
    try {
      info = readNodeInfo(this.#codec, e.key, e.value);
    } catch (err) {
      this.#o.malformed.report("membership", e.key, e.revision, err);
      return;
    }
    this.#seen(info);
  }

  #seen(info: NodeInfo): void {
    const known = this.#members.get(info.id);
    if (known) this.#unindex(known.info);
    this.#members.set(info.id, { info, seen: this.#o.clock.now() });
    for (const kind of info.kinds) {
      const hosts = this.#hosts.get(kind) ?? new Set<string>();
      hosts.add(info.id);
      this.#hosts.set(kind, hosts);
    }
    this.#emit(known ? "update" : "join", info);
  }

  #left(id: string): void {
    const member = this.#members.get(id);
    if (!member) return;
    this.#members.delete(id);
    this.#unindex(member.info);
    this.#emit("leave", id);
  }

  #unindex(info: NodeInfo): void {
    for (const kind of info.kinds) this.#hosts.get(kind)?.delete(info.id);
  }

  /** A listener's failure is its own: logged, never thrown into the watch or a timer. */
  #emit<E extends keyof MembershipEvents>(event: E, ...args: MembershipEvents[E]): void {
    try {
      (this.emit as (e: E, ...a: MembershipEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this.#o.log.error({ err, event }, "a membership listener failed");
    }
  }

  /** Expiry removes entries without a delete marker, so silence past the lease counts as leaving. */
  #sweep(): void {
    const cutoff = this.#o.clock.now() - this.#o.leaseMs;
    for (const [id, m] of this.#members) if (m.seen < cutoff) this.#left(id);
  }
}
