import type { PoolLoad, RemotePool } from "../cluster/membership.js";
import type { LocalTarget, PooledTargets } from "./targets.js";

/** Where one pooled ask or stream goes: an instance on this node, another node's pool, or the kind's queue group. */
export type PoolRoute = { local: LocalTarget } | { node: string } | undefined;

/**
 * Load-aware choice of where pooled work runs: the least busy of the nodes
 * that host the kind, ties broken at random. A candidate's load is its busy
 * share (in flight plus queued, over its slots): this node's read live,
 * another node's estimated as the others' work it announced in its last
 * heartbeat (what it announced less what this node had outstanding there
 * when that heartbeat arrived) plus what this node has outstanding there
 * now. So this caller's own work is counted exactly, once, and a burst
 * between heartbeats spreads instead of landing on the node that looked
 * idlest. This node wins ties (no network hop); a node with no announced
 * load, or draining, is never chosen directly, and with no candidate at all
 * the queue group decides.
 */
export class PoolBalancer {
  readonly #pools: (kind: string) => RemotePool[];
  readonly #random: () => number;
  /** Asks and streams sent to each node's pool of each kind and not yet settled. */
  readonly #outstanding = new Map<string, number>();
  /** Per node and kind: the announcement last seen, and what was outstanding there when it was first seen. */
  readonly #seen = new Map<string, { load: PoolLoad; mineThen: number }>();

  constructor(pools: (kind: string) => RemotePool[], random: () => number = Math.random) {
    this.#pools = pools;
    this.#random = random;
  }

  route(kind: string, host: PooledTargets | undefined): PoolRoute {
    const remotes = this.#pools(kind);
    if (remotes.length === 0) {
      const local = host?.pickLocal(false);
      return local && { local };
    }
    const best = this.#leastBusy(kind, remotes);
    if (host !== undefined) {
      const mine = share(host.load());
      if (mine <= best.share) {
        const local = host.pickLocal(mine < best.share ? false : true);
        if (local) return { local };
      }
    }
    return { node: best.node };
  }

  /** Counts a send to a node's pool until `settled` runs. */
  sent(node: string, kind: string): () => void {
    const key = `${node}\u0000${kind}`;
    this.#outstanding.set(key, (this.#outstanding.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.#outstanding.get(key) ?? 1) - 1;
      if (n <= 0) this.#outstanding.delete(key);
      else this.#outstanding.set(key, n);
    };
  }

  #leastBusy(kind: string, remotes: RemotePool[]): { node: string; share: number } {
    let best: { node: string; share: number } | undefined;
    let ties = 0;
    for (const r of remotes) {
      const key = `${r.node}\u0000${kind}`;
      const mine = this.#outstanding.get(key) ?? 0;
      let seen = this.#seen.get(key);
      if (seen?.load !== r.load) this.#seen.set(key, (seen = { load: r.load, mineThen: mine }));
      const s = share({ busy: Math.max(0, r.load.busy - seen.mineThen) + mine, slots: r.load.slots });
      if (best === undefined || s < best.share) {
        best = { node: r.node, share: s };
        ties = 1;
      } else if (s === best.share && this.#random() * ++ties < 1) {
        best = { node: r.node, share: s }; // reservoir choice: each tied node equally likely
      }
    }
    return best!;
  }
}

const share = (load: PoolLoad): number => load.busy / Math.max(1, load.slots);
