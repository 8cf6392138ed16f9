/**
 * Durable snapshots of a ShardIndex. A snapshot is a directory
 * `snapshot-<generation>` holding the index's files and a MANIFEST.json that
 * names the last applied write-log sequence and each file's size and SHA-256.
 *
 * Writing: everything goes into a fresh `.tmp-*` directory, files are
 * fsynced, the manifest is written last, and the directory is renamed into
 * place (atomic on one file system); then older snapshots and leftover temp
 * directories are removed. Reading: the newest directory whose manifest
 * exists and whose files match it wins; anything else is skipped. So a
 * snapshot torn by a crash is never loaded.
 *
 * One writer per directory: a save removes other writers' temp directories.
 */
import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { ShardIndex } from "./shard-index.js";
import { positiveInt } from "./validate.js";

const MANIFEST_FILE = "MANIFEST.json";
const MANIFEST_FORMAT = 1;
const TMP_PREFIX = ".tmp-";
const NAME = /^snapshot-(\d+)$/;

interface FileDigest {
  name: string;
  bytes: number;
  sha256: string;
}

interface Manifest {
  format: typeof MANIFEST_FORMAT;
  generation: number;
  lastSeq: number;
  files: FileDigest[];
}

export interface LoadedSnapshot {
  index: ShardIndex;
  /** The last write-log sequence applied to `index`; replay starts after it. */
  lastSeq: number;
}

export interface LoadOptions {
  /** Told about each snapshot directory passed over as incomplete or corrupt. */
  onSkip?: (path: string, reason: string) => void;
}

/** Saves `index` as the newest snapshot in `dir` and removes the older ones. */
export async function saveSnapshot(dir: string, index: ShardIndex, lastSeq: number): Promise<void> {
  positiveInt("lastSeq", lastSeq, 0);
  await mkdir(dir, { recursive: true });
  const generation = ((await listSnapshots(dir))[0]?.generation ?? 0) + 1;
  const name = `snapshot-${String(generation).padStart(12, "0")}`;
  const tmp = join(dir, `${TMP_PREFIX}${randomUUID()}`);
  await mkdir(tmp);
  try {
    const files: FileDigest[] = [];
    for (const file of await index.writeFiles(tmp)) {
      await fsync(join(tmp, file));
      files.push({ name: file, ...(await digest(join(tmp, file))) });
    }
    const manifest: Manifest = { format: MANIFEST_FORMAT, generation, lastSeq, files };
    await writeDurably(join(tmp, MANIFEST_FILE), JSON.stringify(manifest));
    await fsyncDir(tmp);
    await rename(tmp, join(dir, name));
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  await fsyncDir(dir);
  for (const entry of await readdir(dir)) {
    if (entry !== name && (NAME.test(entry) || entry.startsWith(TMP_PREFIX))) await rm(join(dir, entry), { recursive: true, force: true });
  }
}

/** The newest complete snapshot in `dir`, or undefined when there is none. */
export async function loadSnapshot(dir: string, opts: LoadOptions = {}): Promise<LoadedSnapshot | undefined> {
  for (const { name, generation } of await listSnapshots(dir)) {
    const path = join(dir, name);
    try {
      const manifest = parseManifest(await readFile(join(path, MANIFEST_FILE), "utf8"), generation);
      for (const file of manifest.files) {
        const actual = await digest(join(path, file.name));
        if (actual.bytes !== file.bytes || actual.sha256 !== file.sha256) throw new Error(`${file.name} does not match the manifest`);
      }
      return { index: await ShardIndex.readFiles(path), lastSeq: manifest.lastSeq };
    } catch (err) {
      opts.onSkip?.(path, err instanceof Error ? err.message : String(err));
    }
  }
  return undefined;
}

/** Snapshot directories, newest first. */
async function listSnapshots(dir: string): Promise<Array<{ name: string; generation: number }>> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return entries
    .flatMap((name) => {
      const m = NAME.exec(name);
      return m === null ? [] : [{ name, generation: Number(m[1]) }];
    })
    .sort((a, b) => b.generation - a.generation);
}

function parseManifest(json: string, generation: number): Manifest {
  const m = JSON.parse(json) as Partial<Manifest>;
  const ok =
    m.format === MANIFEST_FORMAT &&
    m.generation === generation &&
    Number.isSafeInteger(m.lastSeq) &&
    (m.lastSeq ?? -1) >= 0 &&
    Array.isArray(m.files) &&
    m.files.every((f) => typeof f.name === "string" && !f.name.includes("/") && Number.isSafeInteger(f.bytes) && typeof f.sha256 === "string");
  if (!ok) throw new Error("malformed manifest");
  return m as Manifest;
}

async function digest(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const piece of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(piece);
    bytes += piece.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}

async function writeDurably(path: string, data: string): Promise<void> {
  const file = await open(path, "wx");
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
}

async function fsync(path: string): Promise<void> {
  const file = await open(path, "r");
  try {
    await file.sync();
  } finally {
    await file.close();
  }
}

/** Makes a rename or a new entry durable; a no-op where directories cannot be fsynced. */
async function fsyncDir(path: string): Promise<void> {
  try {
    await fsync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL") throw err;
  }
}
