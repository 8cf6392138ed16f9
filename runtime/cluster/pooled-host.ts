import type { Subscription } from "@nats-io/transport-node";
import { Supervisor } from "../../supervisors/index.js";
import { ActorCell } from "../cell/actor-cell.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { CellStats } from "../contract/stats.js";
import type { PoolLoad } from "./membership.js";
import type { PooledTargets } from "../delivery/targets.js";
import { cellOptions, drainQuietly, type HostDeps, type KindHost } from "./host.js";

/**
 * A pooled kind on one node: N interchangeable instances, each with its own
 * mailbox and its own subscription to the kind's queue group. An instance
 * above its high watermark leaves the queue group (drains its subscription)
 * so NATS hands new work to other members, and rejoins below the low one.
 */
export class PooledHost implements KindHost, PooledTargets {
  readonly kind: AnyHosted;
  readonly #deps: HostDeps;
  readonly #cells: ActorCell[] = [];
  /** Per instance: its subscriptions to the kind's queue group and to this node's pool of the kind. */
  readonly #subs: Array<[Subscription, Subscription] | undefined> = [];
  readonly #supervisor: Supervisor;
  #intake = false;
  #next = 0;

  constructor(kind: AnyHosted, deps: HostDeps, supervisor: Supervisor) {
    this.kind = kind;
    this.#deps = deps;
    this.#supervisor = supervisor;
  }

  async start(): Promise<void> {
    for (let i = 0; i < this.kind.instances; i++) {
      const key = `${this.#deps.nodeId}-${i}`;
      const cell = new ActorCell({ ...cellOptions(this.#deps, this.kind, key), onIntake: (accepting) => this.#setSubscribed(i, accepting) });
      this.#cells.push(cell);
      await this.#supervisor.add(cell.childSpec());
    }
    this.#intake = true;
    this.#cells.forEach((_, i) => this.#setSubscribed(i, true));
    await this.#deps.nc.flush();
  }

  /**
   * A local instance to deliver to directly, round robin; undefined when the
   * message should go through the queue group instead. With no other node
   * hosting the kind, any instance below its high watermark will do; when
   * other nodes host it too, only one with a free slot right now, so that
   * work queues where it can start soonest and adding nodes adds capacity.
   */
  pickLocal(othersHost: boolean): ActorCell | undefined {
    const n = this.#cells.length;
    for (let i = 0; i < n; i++) {
      const cell = this.#cells[(this.#next + i) % n]!;
      if (othersHost ? cell.hasFreeSlot : cell.accepting) {
        this.#next = (this.#next + i + 1) % n;
        return cell;
      }
    }
    return undefined;
  }

  load(): PoolLoad {
    let busy = 0;
    for (const c of this.#cells) busy += c.load;
    return { busy, slots: this.#cells.length * this.kind.concurrency };
  }

  /** The least loaded local instance, busy or not (last resort when no other node can help). */
  anyLocal(): ActorCell | undefined {
    return this.#cells.find((c) => c.stats().lifecycle !== "stopped");
  }

  async stopIntake(): Promise<void> {
    this.#intake = false;
    const subs = this.#subs.splice(0, this.#subs.length, ...this.#subs.map(() => undefined));
    await Promise.all(subs.flatMap((s) => s ?? []).map(drainQuietly));
  }

  async stop(reason: string): Promise<void> {
    await this.stopIntake();
    await Promise.all(this.#cells.map((c) => c.drain(this.#deps.graceMs)));
    await this.#supervisor.stop(reason);
    for (const c of this.#cells) c.dispose(reason);
  }

  stats(): CellStats[] {
    return this.#cells.map((c) => c.stats());
  }

  cells(): Iterable<ActorCell> {
    return this.#cells;
  }

  #setSubscribed(i: number, on: boolean): void {
    const current = this.#subs[i];
    if (on && !current && this.#intake) {
      const cell = this.#cells[i]!;
      const { address } = this.kind;
      const { nc, subjects, nodeId, inbound } = this.#deps;
      const subscribe = (subject: string) =>
        nc.subscribe(subject, {
          queue: address.kind,
          callback: (err, m) => {
            if (!err) inbound.handle(m, address, cell.admit);
          },
        });
      this.#subs[i] = [subscribe(subjects.pool(address.kind)), subscribe(subjects.poolOn(nodeId, address.kind))];
    } else if (!on && current) {
      this.#subs[i] = undefined;
      for (const sub of current) void drainQuietly(sub);
    }
  }
}
