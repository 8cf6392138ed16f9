/**
 * L3: a small on-disk key/value store, one file per key. (cacache or LMDB
 * would do; neither is a dependency, and this needs little.)
 *
 *   <dir>/<aa>/<sha256(key)>      aa = the hash's first two hex digits
 *
 * A file is a 25-byte header — "CLM3", format version 1, expiresAt and
 * writtenAt as float64 epoch ms — then the key (u32 length + UTF-8) and the
 * value bytes. Writes go to a temporary file in the same directory and are
 * renamed over the old one, so a reader sees a whole entry or none. The store
 * holds at most `maxEntries` entries: the oldest written go first. Expired
 * entries are misses and are removed when met. Opening scans the directory
 * (headers only), drops expired entries and temporary files a crash left.
 * One process owns a directory.
 */
import { createHash, randomBytes } from "node:crypto";
import { rename as renameCb, writeFile as writeFileCb } from "node:fs";
import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { join } from "node:path";
import { systemClock, type Clock } from "../../supervisors/index.js";

// Every answer is written here: the callback API's write and rename cost the thread about half what
// fs/promises' do (no FileHandle object to make, track and close on the thread).
const writeFile = promisify(writeFileCb);
const rename = promisify(renameCb);

const MAGIC = Buffer.from("CLM3");
const VERSION = 1;
const HEADER = 4 + 1 + 8 + 8 + 4;
const TMP = ".tmp-";

export interface DiskStoreOptions {
  dir: string;
  maxEntries: number;
  /** Reads the time entries expire by (default systemClock). */
  clock?: Clock;
}

interface Meta {
  expiresAt: number;
  writtenAt: number;
}

export class DiskStore {
  readonly dir: string;
  readonly maxEntries: number;
  readonly #clock: Clock;
  /** By hash, oldest write first. */
  readonly #index = new Map<string, Meta>();
  /** Shard directories known to exist. */
  readonly #dirs = new Set<string>();

  private constructor(opts: DiskStoreOptions) {
    this.dir = opts.dir;
    this.maxEntries = opts.maxEntries;
    this.#clock = opts.clock ?? systemClock;
  }

  static async open(opts: DiskStoreOptions): Promise<DiskStore> {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError(`maxEntries must be a positive integer, got ${opts.maxEntries}`);
    const store = new DiskStore(opts);
    await mkdir(opts.dir, { recursive: true });
    await store.#scan();
    return store;
  }

  get size(): number {
    return this.#index.size;
  }

  /** The value and its expiry, or undefined when absent, expired or unreadable. */
  async get(key: string): Promise<{ value: Uint8Array; expiresAt: number } | undefined> {
    const hash = hashOf(key);
    const meta = this.#index.get(hash);
    if (meta === undefined) return undefined;
    if (meta.expiresAt <= this.#clock.now()) {
      await this.#remove(hash);
      return undefined;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(this.#path(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      this.#index.delete(hash);
      return undefined;
    }
    const entry = decode(bytes);
    if (entry === undefined || entry.key !== key) return undefined;
    return { value: entry.value, expiresAt: entry.meta.expiresAt };
  }

  async set(key: string, value: Uint8Array, expiresAt: number): Promise<void> {
    const hash = hashOf(key);
    const meta = { expiresAt, writtenAt: this.#clock.now() };
    const shard = join(this.dir, hash.slice(0, 2));
    // A directory made once is not made again: the mkdir was a syscall on every answer written.
    if (!this.#dirs.has(shard)) {
      await mkdir(shard, { recursive: true });
      this.#dirs.add(shard);
    }
    const tmp = join(shard, `${TMP}${randomBytes(6).toString("hex")}`);
    try {
      await writeFile(tmp, encode(key, value, meta));
      await rename(tmp, join(shard, hash));
    } catch (err) {
      // Someone removed the directory: the next write makes it again.
      if ((err as NodeJS.ErrnoException).code === "ENOENT") this.#dirs.delete(shard);
      await rm(tmp, { force: true });
      throw err;
    }
    this.#index.delete(hash);
    this.#index.set(hash, meta);
    while (this.#index.size > this.maxEntries) await this.#remove(this.#index.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    await this.#remove(hashOf(key));
  }

  #path(hash: string): string {
    return join(this.dir, hash.slice(0, 2), hash);
  }

  async #remove(hash: string): Promise<void> {
    this.#index.delete(hash);
    await rm(this.#path(hash), { force: true });
  }

  async #scan(): Promise<void> {
    const now = this.#clock.now();
    const found: Array<[string, Meta]> = [];
    for (const shard of await readdir(this.dir, { withFileTypes: true })) {
      if (!shard.isDirectory() || !/^[0-9a-f]{2}$/.test(shard.name)) continue;
      for (const name of await readdir(join(this.dir, shard.name))) {
        const path = join(this.dir, shard.name, name);
        if (name.startsWith(TMP)) {
          await rm(path, { force: true });
          continue;
        }
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const meta = await readMeta(path);
        if (meta === undefined || meta.expiresAt <= now) await rm(path, { force: true });
        else found.push([name, meta]);
      }
    }
    found.sort(([, a], [, b]) => a.writtenAt - b.writtenAt);
    for (const [hash, meta] of found) this.#index.set(hash, meta);
    while (this.#index.size > this.maxEntries) await this.#remove(this.#index.keys().next().value!);
  }
}

const hashOf = (key: string) => createHash("sha256").update(key).digest("hex");

function encode(key: string, value: Uint8Array, meta: Meta): Buffer {
  const k = Buffer.from(key, "utf8");
  const header = Buffer.alloc(HEADER);
  MAGIC.copy(header, 0);
  header.writeUInt8(VERSION, 4);
  header.writeDoubleBE(meta.expiresAt, 5);
  header.writeDoubleBE(meta.writtenAt, 13);
  header.writeUInt32BE(k.length, 21);
  return Buffer.concat([header, k, value]);
}

function decodeMeta(header: Buffer): Meta | undefined {
  if (header.length < HEADER || !header.subarray(0, 4).equals(MAGIC) || header.readUInt8(4) !== VERSION) return undefined;
  return { expiresAt: header.readDoubleBE(5), writtenAt: header.readDoubleBE(13) };
}

function decode(bytes: Buffer): { key: string; value: Uint8Array; meta: Meta } | undefined {
  const meta = decodeMeta(bytes);
  if (meta === undefined) return undefined;
  const keyLength = bytes.readUInt32BE(21);
  if (HEADER + keyLength > bytes.length) return undefined;
  const at = HEADER + keyLength;
  return { key: bytes.toString("utf8", HEADER, at), value: new Uint8Array(bytes.buffer, bytes.byteOffset + at, bytes.length - at), meta };
}

async function readMeta(path: string): Promise<Meta | undefined> {
  const file = await open(path, "r");
  try {
    const header = Buffer.alloc(HEADER);
    const { bytesRead } = await file.read(header, 0, HEADER, 0);
    return decodeMeta(header.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
