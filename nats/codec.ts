import { Packr } from "msgpackr";
import { NatsError } from "./errors.js";

/** Default size guard: below nats-server's default max_payload of 1 MiB. */
export const DEFAULT_MAX_PAYLOAD = 1024 * 1024 - 4 * 1024;

/**
 * The one msgpack codec. Records are off so that any msgpack client can read
 * what Colmena writes; typed arrays (embeddings) travel as msgpack extensions
 * that msgpackr turns back into the same typed array.
 */
export class Codec {
  readonly maxPayload: number;
  readonly #packr = new Packr({ useRecords: false, moreTypes: true });

  constructor(maxPayload = DEFAULT_MAX_PAYLOAD) {
    if (!Number.isInteger(maxPayload) || maxPayload <= 0) throw new RangeError(`maxPayload must be a positive integer, got ${maxPayload}`);
    this.maxPayload = maxPayload;
  }

  encode(value: unknown): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = this.#packr.pack(value);
    } catch (cause) {
      throw new NatsError("INVALID", `value cannot be encoded as msgpack: ${(cause as Error).message}`, { cause });
    }
    if (bytes.length > this.maxPayload) throw tooLarge(bytes.length, this.maxPayload);
    return bytes;
  }

  decode<T = unknown>(bytes: Uint8Array): T {
    if (bytes.length > this.maxPayload) throw tooLarge(bytes.length, this.maxPayload);
    if (bytes.length === 0) throw new NatsError("DECODE", "empty payload: expected a msgpack value");
    try {
      return this.#packr.unpack(bytes) as T;
    } catch (cause) {
      throw new NatsError("DECODE", `payload is not valid msgpack: ${(cause as Error).message}`, { cause, details: { bytes: bytes.length } });
    }
  }
}

const tooLarge = (size: number, limit: number) =>
  new NatsError("TOO_LARGE", `payload of ${size} bytes exceeds the ${limit}-byte limit`, { details: { size, limit } });
