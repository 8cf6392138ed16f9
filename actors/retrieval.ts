/**
 * One config for every retrieval kind a node hosts: the index layout and the
 * data directory are given once and handed to each kind's own schema, whose
 * errors come back under the kind's key (`shard.snapshotEveryWrites: ...`).
 */
import { join } from "node:path";
import { z } from "zod";
import type { AnyHosted } from "../runtime/index.js";
import { embedderActor, EmbedderConfigSchema } from "./embedder/embedder-actor.js";
import { IndexListSchema } from "./index-shard/index-spec.js";
import { shardActor, ShardConfigSchema } from "./index-shard/shard-actor.js";
import { ingestActor, IngestConfigSchema } from "./ingest/ingest-actor.js";
import { coordinatorActor, CoordinatorConfigSchema } from "./query/coordinator.js";

const section = z.record(z.string(), z.unknown()).default({});

export const RetrievalConfigSchema = z
  .strictObject({
    /** Shard snapshots live under `<dataDir>/shards/`. */
    dataDir: z.string().min(1).default(".data"),
    indexes: IndexListSchema,
    embedder: section,
    /** Shard settings other than dataDir and indexes. */
    shard: section,
    /** Ingest settings other than indexes. */
    ingest: section,
    /** Coordinator settings other than indexes. */
    query: section,
  })
  .transform((c, ctx) => {
    const parse = <S extends z.ZodType>(schema: S, value: unknown, key: string): z.output<S> => {
      const r = schema.safeParse(value);
      if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: [key, ...issue.path] });
      return r.data as z.output<S>;
    };
    return {
      dataDir: c.dataDir,
      indexes: c.indexes,
      embedder: parse(EmbedderConfigSchema, c.embedder, "embedder"),
      shard: parse(ShardConfigSchema, { ...c.shard, dataDir: join(c.dataDir, "shards"), indexes: c.indexes }, "shard"),
      ingest: parse(IngestConfigSchema, { ...c.ingest, indexes: c.indexes }, "ingest"),
      query: parse(CoordinatorConfigSchema, { ...c.query, indexes: c.indexes }, "query"),
    };
  });

export type RetrievalConfig = z.output<typeof RetrievalConfigSchema>;
export type RetrievalConfigInput = z.input<typeof RetrievalConfigSchema>;

export type RetrievalRole = "embedder" | "shard" | "ingest" | "query";

/** The kinds a node with these roles hosts (default: all four). */
export function retrievalKinds(config: RetrievalConfig, roles: readonly RetrievalRole[] = ["embedder", "shard", "ingest", "query"]): AnyHosted[] {
  const kinds: AnyHosted[] = [];
  if (roles.includes("embedder")) kinds.push(embedderActor(config.embedder));
  if (roles.includes("shard")) kinds.push(shardActor(config.shard));
  if (roles.includes("ingest")) kinds.push(ingestActor(config.ingest));
  if (roles.includes("query")) kinds.push(coordinatorActor(config.query));
  return kinds;
}
