/**
 * An index's layout: its name, how many shards split it, how many replicas
 * copy each shard, and the vector and HNSW settings of every replica. Every
 * node that writes, hosts or queries an index must hold the same spec; the
 * shard count in particular decides where a document lives, so changing it
 * means re-ingesting.
 */
import { z } from "zod";
import { ColmenaError, invalid } from "../../runtime/index.js";

const positive = z.number().int().positive();

export const IndexSpecSchema = z.strictObject({
  /** Letters, digits, `_` and `-`; part of subjects, consumer names and directories. */
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, _ and -")
    .max(48)
    .default("default"),
  shards: positive.max(1024).default(1),
  replicas: positive.max(16).default(1),
  /** Vector length; must equal the embedder's. */
  dimension: positive.default(384),
  M: positive.min(2).optional(),
  efConstruction: positive.optional(),
  efSearch: positive.optional(),
  initialCapacity: positive.optional(),
});

export type IndexSpec = z.infer<typeof IndexSpecSchema>;
export type IndexSpecInput = z.input<typeof IndexSpecSchema>;

/** A list of index specs with distinct names (at least one). */
export const IndexListSchema = z
  .array(IndexSpecSchema)
  .min(1)
  .prefault([{}])
  .refine((list) => new Set(list.map((i) => i.name)).size === list.length, { message: "index names must be distinct" });

/** One replica of one shard. */
export interface ShardAddress {
  index: string;
  shard: number;
  replica: number;
}

/** The keyed-actor key of a shard replica: `<index>-<shard>-r<replica>`. */
export const shardKey = (index: string, shard: number, replica: number): string => `${index}-${shard}-r${replica}`;

/** The name a shard goes by in answers (`missingShards`): `<index>-<shard>`. */
export const shardName = (index: string, shard: number): string => `${index}-${shard}`;

const KEY = /^([A-Za-z0-9_-]+)-(\d+)-r(\d+)$/;

/** Reads a shard replica key; INVALID when it is not one. */
export function parseShardKey(key: string): ShardAddress {
  const m = KEY.exec(key);
  if (!m) throw invalid(`${JSON.stringify(key)} is not a shard replica key (<index>-<shard>-r<replica>)`);
  return { index: m[1]!, shard: Number(m[2]), replica: Number(m[3]) };
}

/** The spec of `name` (the first one when absent); NOT_FOUND naming the configured ones. */
export function findIndex(indexes: readonly IndexSpec[], name: string | undefined): IndexSpec {
  const spec = name === undefined ? indexes[0] : indexes.find((i) => i.name === name);
  if (spec === undefined) {
    throw new ColmenaError("NOT_FOUND", `unknown index ${JSON.stringify(name)}; configured: ${indexes.map((i) => i.name).join(", ") || "none"}`);
  }
  return spec;
}

/** Every replica key of an index, shard by shard. */
export function replicaKeys(spec: IndexSpec): ShardAddress[] {
  const out: ShardAddress[] = [];
  for (let shard = 0; shard < spec.shards; shard++) for (let replica = 0; replica < spec.replicas; replica++) out.push({ index: spec.name, shard, replica });
  return out;
}
