import type { PoolLoad, RemotePool } from "../cluster/membership.js";
import type { LocalTarget, PooledTargets } from "./targets.js";

/** Where one pooled ask or stream goes: an instance on this node, another node's pool, or the kind's queue group. */
export type PoolRoute = { local: LocalTarget } | { node: string } | undefined;

/**
 * Load-aware choice of where pooled work runs: power of two choices over
 * the nodes that host the kind. Each candidate's load is its busy share
 * (in flight plus queued, over its slots): this node's read live, another
 * node's from its last heartbeat plus what this node has sent it since and
 * not had answered, so a burst between heartbeats does not all land on the
 * node that looked idlest. This node wins ties (no network hop); a node
 * with no announced load, or draining, is never chosen directly, and with no
 * candidate at all the queue group decides.
 */
export class PoolBalancer {
  readonly #pools: (kind: string) => RemotePool[];
  readonly #random: () => number;
  /** Asks and streams sent to each node's pool of each kind and not yet settled. */
  readonly #outstanding = new Map<string, number>();

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
    const best = this.#twoChoices(kind, remotes);
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

  #twoChoices(kind: string, remotes: RemotePool[]): { node: string; share: number } {
    const a = remotes[Math.floor(this.#random() * remotes.length)]!;
    let b = a;
    if (remotes.length > 1) {
      const j = Math.floor(this.#random() * (remotes.length - 1));
      b = remotes[j >= remotes.indexOf(a) ? j + 1 : j]!;
    }
    const shareOf = (r: RemotePool) => share({ busy: r.load.busy + (this.#outstanding.get(`${r.node}\u0000${kind}`) ?? 0), slots: r.load.slots });
    const sa = shareOf(a);
    const sb = shareOf(b);
    return sb < sa ? { node: b.node, share: sb } : { node: a.node, share: sa };
  }
}

const share = (load: PoolLoad): number => load.busy / Math.max(1, load.slots);
