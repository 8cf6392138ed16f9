/**
 * The node's cache of answers, in three levels:
 *
 *   L1  in-process LRU (lru-cache), bounded by entries and bytes
 *   L2  one KV bucket of the node's storage per entry kind, shared by every
 *       node; the bucket's max age is the kind's TTL and its size is bounded
 *       (oldest out first)
 *   L3  an on-disk store on this node, for the kinds in `l3.kinds`
 *
 * `get` looks L1 → L2 → L3 and fills the levels above the one that hit; `set`
 * writes every level the kind uses, and `offer` only L1: an offered entry
 * goes on to L2 and L3 the first time it is asked for again (its first L1
 * hit). Most questions are asked once; writing each of their answers to the
 * shared bucket and the disk costs a JetStream write and a file per question
 * and pays back nothing, while an answer asked for twice is the kind worth
 * sharing and keeping (a doorkeeper, as TinyLFU admits entries). Each
 * entry carries its absolute expiry, so a back-filled copy never outlives
 * the original, whatever the level's own TTL. The cache never fails a
 * request: an L2 or L3 error is a miss (or a skipped write), counted and
 * logged. Nor does it hold one up: an L2 operation gives up after
 * `l2.timeoutMs`, and one that failed or gave up
 * opens a circuit breaker (cockatiel) that skips L2 for `l2.halfOpenAfterMs`
 * before it is tried again, so while its bucket elects a leader after a
 * server loss, questions are answered from L1, L3 or afresh.
 */
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleAll, timeout, TimeoutStrategy, wrap, type IPolicy } from "cockatiel";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { Codec } from "../../nats/index.js";
import { invalid, stage, systemClock, zodIssues, type Bucket, type Clock, type KeyView, type Storage } from "../../runtime/index.js";
import { ENTRY_KINDS, keyKind, type EntryKind } from "./cache-key.js";
import { DiskStore } from "./disk-store.js";
import { cacheLookups } from "../metrics.js";

/** The L2 bucket of one entry kind. */
const cacheBucket = (kind: EntryKind) => `cache-${kind}`;

/** Every L2 bucket, for a kind that opens the cache to declare what it stores. */
export const CACHE_BUCKETS: readonly string[] = ENTRY_KINDS.map(cacheBucket);

const positive = z.number().int().positive();

export const CacheConfigSchema = z.strictObject({
  ttlMs: z
    .strictObject({
      answer: positive.default(3_600_000),
    })
    .prefault({}),
  l1: z.strictObject({ maxEntries: positive.default(10_000), maxBytes: positive.default(64 * 1024 * 1024) }).prefault({}),
  l2: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Bytes per entry kind's bucket; the oldest entries make room for new ones. */
      maxBytes: positive.default(256 * 1024 * 1024),
      /** An L2 read or write that takes longer is given up (a miss, a skipped write). */
      timeoutMs: positive.default(250),
      /** After an L2 failure, L2 is skipped for this long. */
      halfOpenAfterMs: positive.default(1_000),
    })
    .prefault({}),
  /** Without a directory there is no L3. */
  l3: z
    .strictObject({
      dir: z.string().min(1).optional(),
      maxEntries: positive.default(10_000),
      kinds: z.array(z.enum(ENTRY_KINDS)).default(["answer"]),
    })
    .prefault({}),
});

export type CacheConfig = z.output<typeof CacheConfigSchema>;
export type CacheConfigInput = z.input<typeof CacheConfigSchema>;

export type CacheLevel = "l1" | "l2" | "l3";

export interface LevelStats {
  hits: number;
  misses: number;
}

export interface CacheStats {
  l1: LevelStats;
  l2: LevelStats;
  l3: LevelStats;
  sets: number;
  /** L2 / L3 operations that failed (each counted as a miss or a skipped write). */
  errors: number;
}

export interface AnswerCacheOptions extends CacheConfigInput {
  /** L2 lives in these buckets (`cache-<kind>`); without storage there is no L2. */
  storage?: Storage;
  /** Reads the time entries expire by, at every level (default systemClock). */
  clock?: Clock;
  warn?: (msg: string, fields: Record<string, unknown>) => void;
}

/** L1 holds values encoded: its byte bound is exact, and the bytes live outside the JS heap. */
interface L1Entry {
  bytes: Uint8Array;
  expiresAt: number;
  /** Offered and not yet hit: L2 and L3 do not have it. */
  offered?: true;
}

/** What L2 holds: the value and its absolute expiry (epoch ms). */
interface Envelope {
  e: number;
  v: unknown;
}

export class AnswerCache {
  readonly config: CacheConfig;
  readonly #l1: LRUCache<string, L1Entry>;
  readonly #l2: Partial<Record<EntryKind, Bucket>>;
  /** Each L2 bucket's keys, so a lookup of a key L2 surely lacks costs no round trip. */
  readonly #l2Keys: Partial<Record<EntryKind, KeyView>>;
  readonly #l2Policy: IPolicy;
  readonly #l3: DiskStore | undefined;
  readonly #codec: Codec;
  readonly #clock: Clock;
  readonly #warn: (msg: string, fields: Record<string, unknown>) => void;
  readonly #stats: CacheStats = { l1: { hits: 0, misses: 0 }, l2: { hits: 0, misses: 0 }, l3: { hits: 0, misses: 0 }, sets: 0, errors: 0 };
  /** Offered entries on their way to L2 and L3 after their first hit. */
  readonly #promoting = new Set<Promise<void>>();

  private constructor(config: CacheConfig, l2: Partial<Record<EntryKind, Bucket>>, l2Keys: Partial<Record<EntryKind, KeyView>>, l3: DiskStore | undefined, opts: AnswerCacheOptions) {
    this.config = config;
    this.#l2 = l2;
    this.#l2Keys = l2Keys;
    this.#l2Policy = wrap(
      circuitBreaker(handleAll, { halfOpenAfter: config.l2.halfOpenAfterMs, breaker: new ConsecutiveBreaker(1) }),
      timeout(config.l2.timeoutMs, TimeoutStrategy.Aggressive),
    );
    this.#l3 = l3;
    // L1 holds encoded copies; the bound that matters there is its byte budget, not a server's payload limit.
    this.#codec = new Codec();
    this.#clock = opts.clock ?? systemClock;
    this.#warn = opts.warn ?? (() => {});
    this.#l1 = new LRUCache<string, L1Entry>({
      max: config.l1.maxEntries,
      maxSize: config.l1.maxBytes,
      sizeCalculation: (entry) => Math.max(1, entry.bytes.byteLength),
    });
  }

  /** Opens the L2 buckets (one per entry kind, with its TTL) and the L3 directory. */
  static async open(opts: AnswerCacheOptions = {}): Promise<AnswerCache> {
    const { storage, clock, warn, ...input } = opts;
    const parsed = CacheConfigSchema.safeParse(input);
    if (!parsed.success) {
      throw invalid(`invalid cache configuration: ${zodIssues(parsed.error).join("; ")}`);
    }
    const config = parsed.data;
    const l2: Partial<Record<EntryKind, Bucket>> = {};
    const l2Keys: Partial<Record<EntryKind, KeyView>> = {};
    if (storage !== undefined && config.l2.enabled) {
      await Promise.all(
        ENTRY_KINDS.map(async (kind) => {
          const bucket = await storage.bucket(cacheBucket(kind), { ttlMs: config.ttlMs[kind], maxBytes: config.l2.maxBytes });
          l2[kind] = bucket;
          l2Keys[kind] = await bucket.watchKeys(warn ? { warn } : {});
        }),
      );
    }
    const l3 = config.l3.dir === undefined ? undefined : await DiskStore.open({ dir: config.l3.dir, maxEntries: config.l3.maxEntries, ...(clock && { clock }) });
    return new AnswerCache(config, l2, l2Keys, l3, { ...(clock && { clock }), ...(warn && { warn }) });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return (await this.lookup<T>(key))?.value;
  }

  /** The value and the level it came from; the levels above are filled on the way back. A stage span says which level answered. */
  async lookup<T>(key: string): Promise<{ value: T; level: CacheLevel } | undefined> {
    const span = stage("cache lookup", { "colmena.cache.kind": keyKind(key) });
    try {
      const found = await this.#lookup<T>(key);
      span.set({ "colmena.cache.hit": found !== undefined, "colmena.cache.level": found?.level ?? "none" });
      span.end();
      return found;
    } catch (err) {
      span.end(err);
      throw err;
    }
  }

  async #lookup<T>(key: string): Promise<{ value: T; level: CacheLevel } | undefined> {
    const kind = keyKind(key);
    const now = this.#clock.now();
    const l1 = this.#l1.get(key);
    if (l1 !== undefined && l1.expiresAt > now) {
      this.#count("l1", true);
      if (l1.offered) this.#promote(key, l1);
      return { value: this.#codec.decode<T>(l1.bytes), level: "l1" };
    }
    if (l1 !== undefined) this.#l1.delete(key);
    this.#count("l1", false);

    const kv = this.#l2[kind];
    if (kv !== undefined) {
      // A key the bucket surely lacks is a miss without the read.
      const found = this.#l2Keys[kind]?.has(key) === false ? undefined : await this.#l2Get(kv, key);
      if (found !== undefined && found.e > this.#clock.now()) {
        this.#count("l2", true);
        this.#l1Set(key, this.#codec.encode(found.v), found.e);
        return { value: found.v as T, level: "l2" };
      }
      this.#count("l2", false);
    }

    if (this.#l3 !== undefined && this.#usesL3(kind)) {
      const found = await this.#l3Get(key);
      if (found !== undefined) {
        this.#count("l3", true);
        this.#l1Set(key, found.bytes, found.expiresAt);
        if (kv !== undefined) await this.#l2Put(kv, key, { e: found.expiresAt, v: found.value });
        return { value: found.value as T, level: "l3" };
      }
      this.#count("l3", false);
    }
    return undefined;
  }

  /** Writes every level the entry's kind uses, expiring after the kind's TTL. */
  #count(level: CacheLevel, hit: boolean): void {
    if (hit) this.#stats[level].hits++;
    else this.#stats[level].misses++;
    cacheLookups.inc({ level, result: hit ? "hit" : "miss" });
  }

  async set<T>(key: string, value: T): Promise<void> {
    const expiresAt = this.#clock.now() + this.config.ttlMs[keyKind(key)];
    this.#stats.sets++;
    const bytes = this.#codec.encode(value);
    this.#l1Set(key, bytes, expiresAt);
    await this.#below(key, value, bytes, expiresAt);
  }

  /** Keeps the entry in L1 only, until its first hit there writes it to L2 and L3 (see the top of this file). */
  offer<T>(key: string, value: T): void {
    this.#stats.sets++;
    this.#l1Set(key, this.#codec.encode(value), this.#clock.now() + this.config.ttlMs[keyKind(key)], true);
  }

  /** Stops following the L2 buckets' keys (the cache still answers, asking L2 for every key). */
  async close(): Promise<void> {
    await Promise.all(Object.values(this.#l2Keys).map((v) => v.stop()));
  }

  /** Resolves once every offered entry that was hit is in L2 and L3 (or failed to get there). */
  async settled(): Promise<void> {
    while (this.#promoting.size > 0) await Promise.all(this.#promoting);
  }

  /** After the hit that returns it, not before: the hit waits for no write. */
  #promote(key: string, entry: L1Entry): void {
    delete entry.offered;
    // A copy of its own: the hit's value is the caller's to change.
    const done: Promise<void> = this.#below(key, this.#codec.decode(entry.bytes), entry.bytes, entry.expiresAt).finally(() => this.#promoting.delete(done));
    this.#promoting.add(done);
  }

  /** Writes the levels below L1 that the entry's kind uses; a failure is counted and logged, never thrown. */
  async #below(key: string, value: unknown, bytes: Uint8Array, expiresAt: number): Promise<void> {
    const kind = keyKind(key);
    const writes: Promise<void>[] = [];
    const kv = this.#l2[kind];
    if (kv !== undefined) writes.push(this.#l2Put(kv, key, { e: expiresAt, v: value }));
    if (this.#l3 !== undefined && this.#usesL3(kind)) {
      writes.push(this.#l3.set(key, bytes, expiresAt).catch((err: unknown) => this.#failed("l3 write", key, err)));
    }
    await Promise.all(writes);
  }

  async delete(key: string): Promise<void> {
    const kind = keyKind(key);
    this.#l1.delete(key);
    await Promise.all([
      this.#l2[kind]?.delete(key).catch((err: unknown) => this.#failed("l2 delete", key, err)),
      this.#l3?.delete(key).catch((err: unknown) => this.#failed("l3 delete", key, err)),
    ]);
  }

  stats(): CacheStats {
    const s = this.#stats;
    return { l1: { ...s.l1 }, l2: { ...s.l2 }, l3: { ...s.l3 }, sets: s.sets, errors: s.errors };
  }

  /** Entries in L1 now. */
  get l1Size(): number {
    return this.#l1.size;
  }

  /**
   * Fills L1 from the shared L2 buckets (at start, so a new node's first
   * users hit memory), up to `limit` (default L1's entry limit); returns the
   * entries loaded. Hit and miss counters are not touched.
   */
  async fillL1FromL2(limit = this.config.l1.maxEntries): Promise<number> {
    let loaded = 0;
    for (const kind of ENTRY_KINDS) {
      const kv = this.#l2[kind];
      if (kv === undefined) continue;
      const keys: string[] = [];
      try {
        for await (const key of kv.keys()) keys.push(key);
      } catch (err) {
        this.#failed("l2 keys", kind, err);
        continue;
      }
      for (let i = 0; i < keys.length && loaded < limit; i += 64) {
        const batch = keys.slice(i, i + 64);
        const found = await Promise.all(batch.map((k) => this.#l2Get(kv, k)));
        const now = this.#clock.now();
        found.forEach((f, j) => {
          if (f === undefined || f.e <= now || loaded >= limit) return;
          this.#l1Set(batch[j]!, this.#codec.encode(f.v), f.e);
          loaded++;
        });
      }
    }
    return loaded;
  }

  /** A copy of the bytes: an encoder's output is a view of a larger buffer, which L1 would keep alive uncounted (Buffer's slice() copies nothing). */
  #l1Set(key: string, bytes: Uint8Array, expiresAt: number, offered = false): void {
    const entry: L1Entry = { bytes: new Uint8Array(bytes), expiresAt };
    if (offered) entry.offered = true;
    this.#l1.set(key, entry);
  }

  #usesL3(kind: EntryKind): boolean {
    return this.config.l3.kinds.includes(kind);
  }

  async #l2Get(bucket: Bucket, key: string): Promise<Envelope | undefined> {
    try {
      const envelope = (await this.#l2Policy.execute(() => bucket.get(key))) as Partial<Envelope> | undefined;
      return typeof envelope === "object" && envelope !== null && typeof envelope.e === "number" ? (envelope as Envelope) : undefined;
    } catch (err) {
      this.#failed("l2 read", key, err);
      return undefined;
    }
  }

  async #l2Put(bucket: Bucket, key: string, envelope: Envelope): Promise<void> {
    try {
      await this.#l2Policy.execute(() => bucket.put(key, envelope));
      this.#l2Keys[keyKind(key)]?.wrote(key);
    } catch (err) {
      this.#failed("l2 write", key, err);
    }
  }

  async #l3Get(key: string): Promise<{ value: unknown; bytes: Uint8Array; expiresAt: number } | undefined> {
    try {
      const found = await this.#l3!.get(key);
      return found === undefined ? undefined : { value: this.#codec.decode(found.value), bytes: found.value, expiresAt: found.expiresAt };
    } catch (err) {
      this.#failed("l3 read", key, err);
      return undefined;
    }
  }

  #failed(what: string, key: string, err: unknown): void {
    this.#stats.errors++;
    // Skipped while the breaker is open: the failure that opened it was logged.
    if (err instanceof BrokenCircuitError) return;
    this.#warn(`cache: ${what} failed`, { key, error: (err as Error).message });
  }
}
