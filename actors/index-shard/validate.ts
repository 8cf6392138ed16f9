/**
 * Input checks for the shard index. Everything that reaches hnswlib or
 * MiniSearch has passed through here, so a bad write is refused as INVALID
 * instead of corrupting native state or poisoning scores with NaN.
 */
import { invalid } from "../../runtime/index.js";
import type { Chunk, Metadata, ShardQuery } from "./types.js";

export function positiveInt(name: string, value: unknown, min = 1): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw invalid(`${name} must be an integer >= ${min}`, { [name]: String(value) });
  }
  return value;
}

function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw invalid(`${name} must be a non-empty string`);
  return value;
}

/**
 * A copy of the vector as the plain array hnswlib-node requires. Values are
 * stored as float32, so a number that overflows float32 is refused too.
 */
export function checkVector(value: unknown, dimension: number, what: string): number[] {
  if (!(value instanceof Float32Array) && !Array.isArray(value)) throw invalid(`${what} vector must be a Float32Array or number[]`);
  if (value.length !== dimension) {
    throw invalid(`${what} vector has dimension ${value.length}, expected ${dimension}`, { expected: dimension, actual: value.length });
  }
  const out = Array.from(value as ArrayLike<unknown>, (x) => (typeof x === "number" ? x : Number.NaN));
  const bad = out.findIndex((x) => !Number.isFinite(Math.fround(x)));
  if (bad >= 0) throw invalid(`${what} vector has a non-finite value at ${bad}`, { index: bad });
  return out;
}

/** A copy of the metadata, so later changes by the caller cannot reach the index. */
export function checkMetadata(value: unknown, what: string): Metadata {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalid(`${what} must be an object`);
  const out: Metadata = {};
  for (const [key, v] of Object.entries(value)) {
    const ok = typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
    if (!ok) throw invalid(`${what}.${key} must be a string, finite number or boolean`, { key });
    out[key] = v;
  }
  return out;
}

export interface CheckedChunk {
  id: string;
  docId: string;
  text: string;
  vector: number[];
  metadata: Metadata;
  ordinal: number | undefined;
}

export function checkChunk(chunk: Chunk, dimension: number): CheckedChunk {
  if (typeof chunk !== "object" || chunk === null) throw invalid("chunk must be an object");
  const id = nonEmptyString("chunk.id", chunk.id);
  const docId = nonEmptyString("chunk.docId", chunk.docId);
  if (typeof chunk.text !== "string") throw invalid("chunk.text must be a string", { id });
  const ordinal = chunk.ordinal === undefined ? undefined : positiveInt("chunk.ordinal", chunk.ordinal, 0);
  return {
    id,
    docId,
    text: chunk.text,
    vector: checkVector(chunk.vector, dimension, `chunk ${id}`),
    metadata: checkMetadata(chunk.metadata, "chunk.metadata"),
    ordinal,
  };
}

export interface CheckedQuery {
  vector: number[] | undefined;
  text: string | undefined;
  k: number;
  filter: Metadata | undefined;
}

export function checkQuery(query: ShardQuery, dimension: number): CheckedQuery {
  if (typeof query !== "object" || query === null) throw invalid("query must be an object");
  if (query.text !== undefined && typeof query.text !== "string") throw invalid("query.text must be a string");
  return {
    vector: query.vector === undefined ? undefined : checkVector(query.vector, dimension, "query"),
    text: query.text,
    k: positiveInt("query.k", query.k),
    filter: query.filter === undefined ? undefined : checkMetadata(query.filter, "query.filter"),
  };
}
