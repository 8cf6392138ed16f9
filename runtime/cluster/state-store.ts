import type { NatsConnection } from "@nats-io/transport-node";
import type { KV } from "@nats-io/kv";
import type { z } from "zod";
import { isRevisionConflict, openBucket, type Codec } from "../../nats/index.js";
import type { ActorAddress } from "../contract/address.js";
import { ColmenaError, isTypedError } from "../contract/errors.js";
import { stateBucket, type Subjects } from "../contract/subjects.js";
import { readState } from "./entries.js";
import type { MalformedEntries } from "./malformed.js";

/**
 * Keyed actors' persisted state, msgpack-encoded, readable from any node: one
 * NATS KV bucket per kind (`<ns>_state-<kind>`, opened on first use), whose
 * max age is the kind's `stateTtlMs`. A key's state is kept that long after
 * its last save, then the server removes it, so keys minted by the thousand
 * (conversations) do not pile up for ever. Saved state that cannot be read
 * (not msgpack, or not what the actor's schema expects) is reported once
 * and loads as none, so the key starts afresh instead of failing every
 * activation for ever.
 */
export class StateStore {
  readonly #nc: NatsConnection;
  readonly #subjects: Subjects;
  readonly #codec: Codec;
  readonly #malformed: MalformedEntries;
  readonly #buckets = new Map<string, Promise<KV>>();

  readonly #replicas: number;

  constructor(nc: NatsConnection, subjects: Subjects, codec: Codec, malformed: MalformedEntries, replicas = 1) {
    this.#nc = nc;
    this.#subjects = subjects;
    this.#codec = codec;
    this.#malformed = malformed;
    this.#replicas = replicas;
  }

  async load<T>(kind: ActorAddress, key: string, schema?: z.ZodType<T>): Promise<T | undefined> {
    const entry = await (await this.#bucket(kind)).get(this.#subjects.stateKey(key));
    if (!entry || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    try {
      return readState(this.#codec, entry.value, schema);
    } catch (err) {
      this.#malformed.report("state", `${kind.kind}/${entry.key}`, entry.revision, err);
      return undefined;
    }
  }

  async save<T>(kind: ActorAddress, key: string, state: T): Promise<void> {
    try {
      await (await this.#bucket(kind)).put(this.#subjects.stateKey(key), this.#codec.encode(state));
    } catch (cause) {
      throw unavailable(kind, key, cause);
    }
  }

  /** Saves `state` only when the key has none yet; false when it had. */
  async create<T>(kind: ActorAddress, key: string, state: T): Promise<boolean> {
    try {
      await (await this.#bucket(kind)).create(this.#subjects.stateKey(key), this.#codec.encode(state));
      return true;
    } catch (cause) {
      if (isRevisionConflict(cause)) return false;
      throw unavailable(kind, key, cause);
    }
  }

  #bucket(kind: ActorAddress): Promise<KV> {
    let bucket = this.#buckets.get(kind.kind);
    if (bucket === undefined) {
      bucket = openBucket(this.#nc, this.#subjects.bucket(stateBucket(kind.kind)), { replicas: this.#replicas, ...(kind.stateTtlMs !== undefined && { ttlMs: kind.stateTtlMs }) });
      // A failed open is tried again on the next call.
      bucket.catch(() => this.#buckets.delete(kind.kind));
      this.#buckets.set(kind.kind, bucket);
    }
    return bucket;
  }
}

function unavailable(kind: ActorAddress, key: string, cause: unknown): ColmenaError {
  return isTypedError(cause) ? ColmenaError.from(cause) : new ColmenaError("UNAVAILABLE", `cannot save state of ${kind.kind} ${key}: ${(cause as Error).message}`, { cause });
}
