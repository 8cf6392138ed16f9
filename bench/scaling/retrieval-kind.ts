/**
 * The CPU-bound case of the scaling benchmark: a pooled kind whose every ask
 * is real retrieval work, `SEARCHES` HNSW searches (hnswlib-node) of seeded
 * query vectors against an index each node builds from the same seed. One
 * instance of concurrency 1 per node: one JS thread's worth of search, so N
 * nodes can give at most N × one node's throughput, and only with N cores.
 */
import hnswlib from "hnswlib-node";
import { z } from "zod";
import { defineActor } from "../../runtime/index.js";
import { randomMatrix, row } from "../retrieval/data.js";

export const DIM = 64;
export const VECTORS = 4_000;
export const SEARCHES = 16;
const QUERIES = 256;

export const Retrieve = defineActor({
  kind: "scaling-retrieve",
  placement: "pooled",
  concurrency: 1,
  mailbox: { capacity: 4_096 },
  messages: { search: z.object({ q: z.number().int().nonnegative() }) },
  create: () => {
    const index = buildIndex();
    const queries = randomMatrix(QUERIES, DIM, 2);
    return { search: (m: { q: number }) => searchBatch(index, queries, m.q) };
  },
});

/** The same index every node builds (and the in-process baseline). */
export function buildIndex(): hnswlib.HierarchicalNSW {
  const data = randomMatrix(VECTORS, DIM, 1);
  const index = new hnswlib.HierarchicalNSW("cosine", DIM);
  index.initIndex(VECTORS, 16, 100, 7);
  for (let i = 0; i < VECTORS; i++) index.addPoint(Array.from(row(data, DIM, i)), i);
  index.setEf(128);
  return index;
}

/** `SEARCHES` top-10 searches starting at query `q`; the first hit of each. */
export function searchBatch(index: hnswlib.HierarchicalNSW, queries: Float32Array, q: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < SEARCHES; i++) out.push(index.searchKnn(Array.from(row(queries, DIM, (q + i) % QUERIES)), 10).neighbors[0]!);
  return out;
}

export const queryMatrix = () => randomMatrix(QUERIES, DIM, 2);
