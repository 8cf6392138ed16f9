import type { KV } from "@nats-io/kv";
import { isRevisionConflict } from "../../nats/index.js";
import { readOwner } from "./entries.js";
import type { MalformedEntries } from "./malformed.js";

export interface Claim {
  owner: string;
  mine: boolean;
  /** Revision of the directory entry when it is ours: release compares against it. */
  revision: number;
}

/**
 * The placement directory: which node holds the one activation of each
 * keyed actor. Claims are compare-and-set on a NATS KV entry whose value is
 * the owner's node id. An entry binds only while its owner's membership lease
 * is alive, so when a node dies its keys are taken over once its lease
 * expires, and never before. An entry that names no valid node id
 * (anyone may write to the bucket) binds nothing: it is reported and taken
 * over by compare-and-set like a dead owner's.
 */
export class PlacementDirectory {
  readonly #kv: KV;
  readonly #nodeId: string;
  readonly #isAlive: (nodeId: string) => Promise<boolean>;
  readonly #malformed: MalformedEntries;

  constructor(kv: KV, nodeId: string, isAlive: (nodeId: string) => Promise<boolean>, malformed: MalformedEntries) {
    this.#kv = kv;
    this.#nodeId = nodeId;
    this.#isAlive = isAlive;
    this.#malformed = malformed;
  }

  async claim(actorKey: string): Promise<Claim> {
    const me = new TextEncoder().encode(this.#nodeId);
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return { owner: this.#nodeId, mine: true, revision: await this.#kv.create(actorKey, me) };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
      }
      const entry = await this.#kv.get(actorKey);
      if (!entry || entry.operation !== "PUT") continue; // deleted meanwhile: create again
      const owner = this.#owner(entry);
      if (owner === this.#nodeId) return { owner, mine: true, revision: entry.revision };
      if (owner !== undefined && (await this.#isAlive(owner))) return { owner, mine: false, revision: entry.revision };
      try {
        return { owner: this.#nodeId, mine: true, revision: await this.#kv.update(actorKey, me, entry.revision) };
      } catch (err) {
        if (!isRevisionConflict(err)) throw err; // another node took it first: look again
      }
    }
    throw new Error(`placement of ${actorKey} kept changing under contention`);
  }

  #owner(entry: { key: string; revision: number; value: Uint8Array }): string | undefined {
    try {
      return readOwner(entry.value);
    } catch (err) {
      this.#malformed.report("placement", entry.key, entry.revision, err);
      return undefined;
    }
  }

  /** Gives the key up, unless someone else has taken it since (compare-and-delete). */
  async release(actorKey: string, revision: number): Promise<void> {
    try {
      await this.#kv.delete(actorKey, { previousSeq: revision });
    } catch (err) {
      if (!isRevisionConflict(err)) throw err;
    }
  }
}
