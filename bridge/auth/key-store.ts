import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetStreamError, openBucket } from "../../nats/index.js";
import { ColmenaError, Subjects, zodIssues, type Logger } from "../../runtime/index.js";
import { isKeyId, isUsable, keyInfo, KeyRecordSchema, newKey, parseKey, secretMatches, type KeyInfo, type KeyRecord } from "./key-records.js";
import type { CallerRole } from "./roles.js";

/** The bucket `<ns>_api_keys`: one JSON record per key id, so `nats kv get` reads them too. */
export const KEYS_BUCKET = "api_keys";

export interface NewKeyRequest {
  role: CallerRole;
  tier?: string;
  name?: string;
  /** ISO 8601. */
  expires?: string;
}

/**
 * The API-key records in NATS KV: what `colmena keys` and `/v1/keys` change.
 * Anything with the NATS connection can make a key (the first admin key
 * comes from the machine that runs the system, never from an open route).
 */
export class KeyStore {
  protected readonly kv: KV;

  protected constructor(kv: KV) {
    this.kv = kv;
  }

  static async open(nc: NatsConnection, namespace: string): Promise<KeyStore> {
    return new KeyStore(await openKeysBucket(nc, namespace));
  }

  /** Stores a new record and answers the key, which is shown once and kept nowhere. */
  async create(request: NewKeyRequest, now = new Date()): Promise<{ key: string; info: KeyInfo }> {
    const { key, id, digest } = newKey();
    const expires = request.expires === undefined ? undefined : new Date(request.expires);
    if (expires !== undefined && Number.isNaN(expires.getTime())) throw new ColmenaError("INVALID", `expires ${JSON.stringify(request.expires)} is not a date (ISO 8601)`);
    const parsed = KeyRecordSchema.safeParse({
      id,
      name: request.name ?? "",
      role: request.role,
      tier: request.tier ?? "default",
      created: now.toISOString(),
      ...(expires !== undefined && { expires: expires.toISOString() }),
      digest,
    });
    if (!parsed.success) throw new ColmenaError("INVALID", `bad key: ${zodIssues(parsed.error).join("; ")}`);
    const record = parsed.data;
    await this.#write(record, "create");
    return { key, info: keyInfo(record) };
  }

  async list(): Promise<KeyInfo[]> {
    const records: KeyInfo[] = [];
    try {
      for await (const id of await this.kv.keys()) {
        const record = await this.#read(id);
        if (record !== undefined) records.push(keyInfo(record));
      }
    } catch (err) {
      throw jetStreamError(err, "cannot list the API keys");
    }
    return records.sort((a, b) => a.created.localeCompare(b.created));
  }

  /** Marks the key revoked (the record stays, for the audit's sake); NOT_FOUND for an unknown id. */
  async revoke(id: string, now = new Date()): Promise<KeyInfo> {
    const record = isKeyId(id) ? await this.#read(id) : undefined;
    if (record === undefined) throw new ColmenaError("NOT_FOUND", `no API key ${id.slice(0, 40)}`);
    if (record.revoked !== undefined) return keyInfo(record);
    const revoked = { ...record, revoked: now.toISOString() };
    await this.#write(revoked, "revoke");
    return keyInfo(revoked);
  }

  async #read(id: string): Promise<KeyRecord | undefined> {
    const entry = await this.kv.get(id);
    if (entry === null || entry.operation !== "PUT") return undefined;
    return parseRecord(entry.string());
  }

  async #write(record: KeyRecord, what: string): Promise<void> {
    try {
      await this.kv.put(record.id, JSON.stringify(record));
    } catch (err) {
      throw jetStreamError(err, `cannot ${what} API key ${record.id}`);
    }
  }
}

export type KeyCheck = { ok: true; record: KeyInfo } | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired" };

/**
 * A bridge's view of the keys: every record held in memory and kept by a
 * watch on the bucket, so checking a key costs no round trip and a
 * revocation is in force as soon as the server pushes it (well under 1 s).
 */
export class KeyRegistry extends KeyStore {
  readonly #records = new Map<string, KeyRecord>();
  readonly #log: Logger;
  #watch: { stop(): void } | undefined;

  private constructor(kv: KV, log: Logger) {
    super(kv);
    this.#log = log;
  }

  /** Opens the bucket and resolves once the watch has delivered every record there is. */
  static async watch(nc: NatsConnection, namespace: string, log: Logger): Promise<KeyRegistry> {
    const registry = new KeyRegistry(await openKeysBucket(nc, namespace), log);
    await registry.#start();
    return registry;
  }

  check(presented: string, now: number): KeyCheck {
    const parsed = parseKey(presented);
    if (parsed === undefined) return { ok: false, reason: "malformed" };
    const record = this.#records.get(parsed.id);
    if (record === undefined || !secretMatches(parsed.secret, record.digest)) return { ok: false, reason: "unknown" };
    if (!isUsable(record, now)) return { ok: false, reason: record.revoked !== undefined ? "revoked" : "expired" };
    return { ok: true, record: keyInfo(record) };
  }

  stop(): void {
    this.#watch?.stop();
  }

  async #start(): Promise<void> {
    const { values } = await this.kv.status();
    const watch = await this.kv.watch();
    this.#watch = watch;
    let caughtUp: () => void = () => {};
    const initial = new Promise<void>((resolve) => (caughtUp = resolve));
    if (values === 0) caughtUp();
    void (async () => {
      for await (const e of watch) {
        if (e.operation === "PUT") {
          const record = parseRecord(e.string());
          // A record filed under an id other than its own is refused: the id a key presents must be its record's.
          if (record === undefined || record.id !== e.key) this.#log.warn({ key: e.key }, "ignored a malformed API-key record");
          else this.#records.set(e.key, record);
        } else {
          this.#records.delete(e.key);
        }
        if (e.delta === 0 || e.isUpdate) caughtUp();
      }
    })();
    await initial;
  }
}

function parseRecord(text: string): KeyRecord | undefined {
  try {
    const parsed = KeyRecordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

async function openKeysBucket(nc: NatsConnection, namespace: string): Promise<KV> {
  return openBucket(nc, new Subjects(namespace).bucket(KEYS_BUCKET)).catch((err: unknown) => {
    throw jetStreamError(err, "the API-key bucket could not be opened");
  });
}
