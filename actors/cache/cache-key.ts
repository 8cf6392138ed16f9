/**
 * Cache keys: a hash of everything an entry depends on — its kind, the
 * normalised question, the index version and the model ids, plus any
 * parameters that change it — so ingesting or deleting documents (a new
 * index version) or swapping a model can never serve a stale entry.
 */
import { createHash } from "node:crypto";
import { invalid } from "../../runtime/index.js";

/** What the cache holds: answers (the pipeline caches nothing else). */
export const ENTRY_KINDS = ["answer"] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

export interface CacheKeyParts {
  kind: EntryKind;
  /** The question, in any spelling (it is normalised). */
  question: string;
  /** The index version, bumped by every ingest or delete. */
  indexVersion: string | number;
  /** Model ids the entry depends on, e.g. { embedder: "bge-small@3", llm: "falcon3-1b-int8" }. */
  models: Record<string, string>;
  /** Anything else that changes the entry: topK, filters, temperature, system prompt... */
  params?: Record<string, string | number | boolean | null>;
}

/** One spelling per question: NFKC, lower case, whitespace collapsed, trailing punctuation and wrapping quotes dropped. */
export function normaliseQuestion(question: string): string {
  return question
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\s+/g, " ")
    .trim()
    .replace(/^["'“‘«¿¡]+|["'”’»]+$/gu, "")
    .replace(/[\s?!.…。？！]+$/u, "")
    .trim();
}

/** `<kind>.<sha256 hex>`: a valid KV key and file name. */
export function cacheKey(parts: CacheKeyParts): string {
  if (!(ENTRY_KINDS as readonly string[]).includes(parts.kind)) throw invalid(`cache entry kind must be one of ${ENTRY_KINDS.join(", ")}`, { kind: parts.kind });
  if (parts.indexVersion === undefined || parts.indexVersion === "") throw invalid(`a ${parts.kind} cache key needs the index version`);
  const canonical = JSON.stringify([
    "colmena-cache/1",
    parts.kind,
    normaliseQuestion(parts.question),
    String(parts.indexVersion),
    sorted(parts.models),
    sorted(parts.params ?? {}),
  ]);
  return `${parts.kind}.${createHash("sha256").update(canonical).digest("hex")}`;
}

/** The entry kind a key was made for. */
export function keyKind(key: string): EntryKind {
  const kind = key.slice(0, key.indexOf("."));
  if (!(ENTRY_KINDS as readonly string[]).includes(kind) || !/^[a-z]+\.[0-9a-f]{64}$/.test(key)) throw invalid("not a cache key (use cacheKey())", { key });
  return kind as EntryKind;
}

const sorted = (o: Record<string, unknown>) => Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
