/**
 * Worker thread of the shard benchmark: builds, from the seeded vectors, one
 * hnswlib index over everything (the in-process baseline) or the shards'
 * snapshots, and writes them under `dir`. Both workers regenerate the same
 * vectors from the seed, so nothing large crosses threads.
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import hnswlib from "hnswlib-node";
import { saveSnapshot, ShardIndex } from "../../actors/index.js";
import { randomMatrix, row } from "./data.js";

export interface BuildJob {
  what: "baseline" | "shards";
  n: number;
  dim: number;
  seed: number;
  shards: number;
  index: string;
  /** baseline: the index file; shards: the shard data directory. */
  out: string;
  M: number;
  efConstruction: number;
  efSearch: number;
}

const job = workerData as BuildJob;
const vectors = randomMatrix(job.n, job.dim, job.seed);

if (job.what === "baseline") {
  const index = new hnswlib.HierarchicalNSW("cosine", job.dim);
  index.initIndex({ maxElements: job.n, m: job.M, efConstruction: job.efConstruction });
  for (let i = 0; i < job.n; i++) index.addPoint(Array.from(row(vectors, job.dim, i)), i);
  index.writeIndexSync(job.out);
} else {
  await rm(join(job.out, job.index), { recursive: true, force: true });
  for (let s = 0; s < job.shards; s++) {
    const shard = new ShardIndex({ dimension: job.dim, M: job.M, efConstruction: job.efConstruction, efSearch: job.efSearch, initialCapacity: Math.ceil(job.n / job.shards) + 1 });
    for (let i = s; i < job.n; i += job.shards) shard.upsert({ id: `v${i}`, docId: `v${i}`, text: `vector ${i}`, vector: row(vectors, job.dim, i), metadata: {} });
    const dir = join(job.out, job.index, String(s), "r0");
    await mkdir(dir, { recursive: true });
    await saveSnapshot(dir, shard, 0);
  }
}
parentPort!.postMessage("done");
