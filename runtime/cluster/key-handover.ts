import { ColmenaError } from "../contract/errors.js";
import type { AnyHosted } from "../contract/hosting.js";
import type { Storage } from "../contract/storage.js";
import { abortable } from "../time/abortable.js";
import type { HostDeps } from "./host.js";

/** How long a key's new place must stay the same before the key moves: a node that just joined is seen by every node first. */
export const HANDOVER_SETTLE_MS = 3_000;
/** How long the new place may take to prepare (a shard replica replaying its log from the start). */
const PREPARE_TIMEOUT_MS = 120_000;
/** After a failed move, the key stays here this long before it is tried again. */
const RETRY_MS = 30_000;
/** How long the direct activation on the new place may take once the key has left. */
const ACTIVATE_TIMEOUT_MS = 10_000;

/** The node's parts a handover uses, with the kind and the storage it declared. */
export type HandoverDeps = Pick<HostDeps, "nodeId" | "nc" | "codec" | "subjects" | "clock" | "log"> & { kind: AnyHosted; storage: Storage };

/** What the keyed host lends its handover. */
export interface HandoverHost {
  /** Keys active on this node now. */
  activeKeys(): Iterable<string>;
  /** The key's place among the live hosts of the kind. */
  placeOf(key: string): string | undefined;
  /** Whether this node may give keys away now (not stopping, not fenced). */
  canMove(): boolean;
  /** Passivates the key here (its work finished, its state saved, its claim released). */
  passivate(key: string, reason: string): Promise<void>;
}

interface Seen {
  place: string;
  since: number;
  retryAt: number;
}

/**
 * Moves a kind's keys to their place when it changes to another live node
 * (one that joined), one key at a time per node. A key moves only once its
 * place has been the same for HANDOVER_SETTLE_MS and the new place has
 * prepared it (the kind's `handover.prepare`, run there on the activation
 * subject); then this node passivates it and activates it there directly,
 * so the first message after the move does not wait for the activation.
 * Messages sent meanwhile wait for the passivation and are forwarded to the
 * new place, as for any key (keyed-host.ts).
 */
export class KeyHandover {
  readonly #d: HandoverDeps;
  readonly #host: HandoverHost;
  readonly #seen = new Map<string, Seen>();
  #moving: Promise<void> | undefined;
  #leaving: { key: string; place: string } | undefined;
  readonly #preparing = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();

  constructor(deps: HandoverDeps, host: HandoverHost) {
    this.#d = deps;
    this.#host = host;
  }

  /** Looks at the active keys once; starts one move when a key's place has settled elsewhere. */
  tick(): void {
    if (this.#moving !== undefined || !this.#host.canMove()) return;
    const now = this.#d.clock.now();
    const active = new Set(this.#host.activeKeys());
    for (const key of this.#seen.keys()) if (!active.has(key)) this.#seen.delete(key);
    for (const key of [...active].sort()) {
      const place = this.#host.placeOf(key);
      if (place === undefined || place === this.#d.nodeId) {
        this.#seen.delete(key);
        continue;
      }
      const seen = this.#seen.get(key);
      if (seen === undefined || seen.place !== place) {
        this.#seen.set(key, { place, since: now, retryAt: 0 });
        continue;
      }
      if (now - seen.since < HANDOVER_SETTLE_MS || now < seen.retryAt) continue;
      this.#moving = this.#move(key, seen).finally(() => (this.#moving = undefined));
      return;
    }
  }

  /** Gives up a move still waiting for its new place to prepare, and waits for one past that (the key is then gone, or still here to be passivated). */
  async stop(): Promise<void> {
    this.#stopping.abort(new ColmenaError("CANCELLED", `node ${this.#d.nodeId} is stopping`));
    await this.#moving;
  }

  /**
   * Where a key being handed over is going, from its passivation here until
   * it is up there: an activation asked of this node meanwhile (even a
   * direct one) is forwarded there rather than claimed back.
   */
  leavingTo(key: string): string | undefined {
    return this.#leaving?.key === key ? this.#leaving.place : undefined;
  }

  /**
   * On the node a key moves to: the kind's prepare, bounded by the caller's
   * patience. One at a time per key; `preparing` lets an activation of the
   * key here wait for it, as both write the key's local state.
   */
  prepare(key: string): Promise<void> {
    const { kind, nodeId, storage, clock, log } = this.#d;
    if (!this.#host.canMove()) return Promise.reject(new ColmenaError("UNAVAILABLE", `node ${nodeId} takes no keys now`));
    const prepare = kind.handover?.prepare;
    if (prepare === undefined) return Promise.resolve();
    const previous = this.#preparing.get(key) ?? Promise.resolve();
    const running = previous
      .catch(() => {})
      .then(() => prepare({ kind: kind.address.kind, key, nodeId, storage, clock, log: log.child({ kind: kind.address.kind, key }), signal: AbortSignal.timeout(PREPARE_TIMEOUT_MS) }))
      .finally(() => {
        if (this.#preparing.get(key) === running) this.#preparing.delete(key);
      });
    this.#preparing.set(key, running);
    return running;
  }

  /** The prepare of a key running here, if any (it never rejects). */
  preparing(key: string): Promise<void> | undefined {
    return this.#preparing.get(key)?.catch(() => {});
  }

  async #move(key: string, seen: Seen): Promise<void> {
    const { kind, nc, codec, subjects, clock, log } = this.#d;
    const subject = subjects.activateOn(seen.place, kind.address.kind);
    const started = clock.now();
    try {
      const asked = nc.request(subject, codec.encode({ key, prepare: true }), { timeout: PREPARE_TIMEOUT_MS });
      const reply = codec.decode<{ prepared?: unknown; error?: unknown }>((await abortable(asked, this.#stopping.signal)).data);
      if (reply.prepared !== true) throw ColmenaError.fromWire(reply.error);
    } catch (err) {
      if (this.#stopping.signal.aborted) return;
      seen.retryAt = clock.now() + RETRY_MS;
      log.warn({ kind: kind.address.kind, key, to: seen.place, err: ColmenaError.from(err).message }, "a key's new place could not prepare it; it stays here for now");
      return;
    }
    // The place may have changed again while it prepared (it left, or another node joined).
    if (!this.#host.canMove() || this.#host.placeOf(key) !== seen.place || ![...this.#host.activeKeys()].includes(key)) return;
    const prepared = clock.now();
    this.#leaving = { key, place: seen.place };
    try {
      await this.#host.passivate(key, `handed over to ${seen.place}`);
      await this.#activateThere(key, subject, prepared - started, clock.now());
    } finally {
      this.#leaving = undefined;
    }
  }

  async #activateThere(key: string, subject: string, prepareMs: number, left: number): Promise<void> {
    const { kind, nc, codec, clock, log } = this.#d;
    try {
      const reply = codec.decode<{ owner?: unknown; error?: unknown }>((await nc.request(subject, codec.encode({ key, direct: true }), { timeout: ACTIVATE_TIMEOUT_MS })).data);
      if (typeof reply.owner !== "string") throw ColmenaError.fromWire(reply.error);
      log.info({ kind: kind.address.kind, key, to: reply.owner, prepareMs, activateMs: clock.now() - left }, "handed a key over");
    } catch (err) {
      // The key is free: the next message activates it wherever its place is then.
      log.warn({ kind: kind.address.kind, key, to: subject, err: ColmenaError.from(err).message }, "a handed-over key was not activated at its new place");
    }
  }
}
