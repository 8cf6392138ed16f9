import type { KV } from "@nats-io/kv";
import type { Codec } from "../nats/codec.js";
import { isRevisionConflict } from "../nats/kv.js";
import { ColmenaError } from "./errors.js";

/** Keyed actors' persisted state in a NATS KV bucket, msgpack-encoded, readable from any node. */
export class StateStore {
  readonly #kv: KV;
  readonly #codec: Codec;

  constructor(kv: KV, codec: Codec) {
    this.#kv = kv;
    this.#codec = codec;
  }

  async load<T>(actorKey: string): Promise<T | undefined> {
    const entry = await this.#kv.get(actorKey);
    if (!entry || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    return this.#codec.decode<T>(entry.value);
  }

  async save<T>(actorKey: string, state: T): Promise<void> {
    try {
      await this.#kv.put(actorKey, this.#codec.encode(state));
    } catch (cause) {
      throw unavailable(actorKey, cause);
    }
  }

  /** Saves `state` only when the key has none yet; false when it had. */
  async create<T>(actorKey: string, state: T): Promise<boolean> {
    try {
      await this.#kv.create(actorKey, this.#codec.encode(state));
      return true;
    } catch (cause) {
      if (isRevisionConflict(cause)) return false;
      throw unavailable(actorKey, cause);
    }
  }
}

function unavailable(actorKey: string, cause: unknown): ColmenaError {
  return cause instanceof ColmenaError ? cause : new ColmenaError("UNAVAILABLE", `cannot save state of ${actorKey}: ${(cause as Error).message}`, { cause });
}
