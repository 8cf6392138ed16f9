import { EventEmitter } from "node:events";
import type { KV } from "@nats-io/kv";
import type { Clock } from "../../supervisors/index.js";
import type { Codec } from "../../nats/index.js";
import type { Logger } from "../observe/logger.js";

/** How busy a node's instances of one pooled kind are. */
export interface PoolLoad {
  /** Messages in flight plus queued, over every instance. */
  busy: number;
  /** Messages the instances run at once (instances × concurrency). */
  slots: number;
}

export interface NodeLoad {
  inFlight: number;
  mailbox: number;
  /** Per pooled kind this node hosts. */
  pools: Record<string, PoolLoad>;
  /** Resident memory of the process the node runs in: nodes in threads of one process report the same. */
  rssMb: number;
  pid: number;
}

export interface NodeInfo {
  id: string;
  roles: string[];
  /** Actor kinds this node hosts. */
  kinds: string[];
  version: string;
  startedAt: number;
  load: NodeLoad;
  /** Shutting down: takes no new pooled work, finishes what it has. */
  draining: boolean;
}

/** Another node's pool of a kind, as its last heartbeat announced it. */
export interface RemotePool {
  node: string;
  load: PoolLoad;
}

export type MembershipEvents = { join: [NodeInfo]; leave: [string]; update: [NodeInfo] };

/**
 * Node membership over a KV bucket whose entries expire after the lease: each
 * node puts its info every heartbeat; a node that stops (or dies) disappears
 * after the lease, or at once when it leaves cleanly. Every node watches the
 * bucket and emits join, update and leave.
 */
export class Membership extends EventEmitter<MembershipEvents> {
  readonly #kv: KV;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #self: () => NodeInfo;
  readonly #heartbeatMs: number;
  readonly #leaseMs: number;
  readonly #members = new Map<string, { info: NodeInfo; seen: number }>();
  readonly #hosts = new Map<string, Set<string>>();
  #timer: unknown;
  #watch: { stop(): void } | undefined;

  constructor(kv: KV, codec: Codec, options: { self: () => NodeInfo; heartbeatMs: number; leaseMs: number; clock: Clock; log: Logger }) {
    super();
    this.#kv = kv;
    this.#codec = codec;
    this.#self = options.self;
    this.#heartbeatMs = options.heartbeatMs;
    this.#leaseMs = options.leaseMs;
    this.#clock = options.clock;
    this.#log = options.log;
  }

  async start(): Promise<void> {
    await this.#beat();
    const watch = await this.#kv.watch();
    this.#watch = watch;
    void (async () => {
      for await (const e of watch) {
        if (e.operation === "PUT") {
          try {
            this.#seen(this.#codec.decode<NodeInfo>(e.value));
          } catch (err) {
            this.#log.warn({ key: e.key, err }, "ignored a malformed membership entry");
          }
        } else {
          this.#left(e.key);
        }
      }
    })();
    this.#schedule();
  }

  /** Members seen within the lease as of their last heartbeat; this node as it is now. */
  nodes(): NodeInfo[] {
    const self = this.#self();
    return [...this.#members.values()].map((m) => (m.info.id === self.id ? self : m.info));
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
      if (info && !info.draining && load !== undefined && load.slots > 0) out.push({ node: id, load });
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

  /** Authoritative: the node's lease entry is still in the bucket. */
  async isAlive(nodeId: string): Promise<boolean> {
    const entry = await this.#kv.get(nodeId);
    return entry !== null && entry.operation === "PUT";
  }

  /** Other live nodes hosting a kind (kept per kind, so routing asks it per message for free). */
  othersHosting(kind: string, selfId: string): number {
    const hosts = this.#hosts.get(kind);
    return hosts === undefined ? 0 : hosts.size - (hosts.has(selfId) ? 1 : 0);
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watch?.stop();
    try {
      await this.#kv.delete(this.#self().id);
    } catch (err) {
      this.#log.warn({ err }, "could not remove the membership entry; it expires after the lease");
    }
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      void this.#beat()
        .catch((err: unknown) => this.#log.warn({ err }, "membership heartbeat failed"))
        .finally(() => {
          this.#sweep();
          if (this.#timer !== undefined) this.#schedule();
        });
    }, this.#heartbeatMs);
  }

  async #beat(): Promise<void> {
    const info = this.#self();
    await this.#kv.put(info.id, this.#codec.encode(info));
  }

  #seen(info: NodeInfo): void {
    const known = this.#members.get(info.id);
    if (known) this.#unindex(known.info);
    this.#members.set(info.id, { info, seen: this.#clock.now() });
    for (const kind of info.kinds) {
      const hosts = this.#hosts.get(kind) ?? new Set<string>();
      hosts.add(info.id);
      this.#hosts.set(kind, hosts);
    }
    this.emit(known ? "update" : "join", info);
  }

  #left(id: string): void {
    const member = this.#members.get(id);
    if (!member) return;
    this.#members.delete(id);
    this.#unindex(member.info);
    this.emit("leave", id);
  }

  #unindex(info: NodeInfo): void {
    for (const kind of info.kinds) this.#hosts.get(kind)?.delete(info.id);
  }

  /** Expiry removes entries without a delete marker, so silence past the lease counts as leaving. */
  #sweep(): void {
    const cutoff = this.#clock.now() - this.#leaseMs;
    for (const [id, m] of this.#members) if (m.seen < cutoff) this.#left(id);
  }
}
