/**
 * Retrieval benchmarks, one JSON object per line on stdout:
 *
 *   embedder  32 concurrent single-text `embed` requests through the embedder
 *             actor, with dynamic batching and without (maxBatch 1), on the
 *             same ONNX fixture model in the same run; the ratio of the two.
 *   shards    a scatter-gather through the query coordinator over 4 shard
 *             actors (in child processes) holding N random vectors, beside one
 *             in-process hnswlib-node index of the same data and parameters;
 *             latency p50/p99, QPS, recall@10 against brute force.
 *   ingest    chunks per second end to end (ingest stream → chunk → embed
 *             with the hash embedder → shard logs → applied by every replica)
 *             on ../shared/corpus/nats-docs, when it is there.
 *
 * Flags: --only embedder,shards,ingest  --n 100000  --dim 384  --queries 1000
 * --recall-queries 200  --concurrency 16  --shard-procs 2  --requests 100 (per caller)
 * --rounds 3 --encoder-hidden 384
 * --corpus <dir>  --fresh (rebuild the cached shard data under .data/bench).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import hnswlib from "hnswlib-node";
import {
  CoordinatorKind,
  coordinatorActor,
  EmbedderKind,
  embedderActor,
  ensureShards,
  IndexSpecSchema,
  ingestActor,
  IngestKind,
  shardActor,
  waitForShards,
  type DocumentInput,
  type IndexSpec,
} from "../actors/index.js";
import { startNatsServer, type NatsServer } from "../nats/index.js";
import { buildTinyEncoder } from "../test/fixtures/encoder/build-encoder.js";
import type { BuildJob } from "./retrieval/build-index.js";
import { mulberry32 } from "../actors/llm/sampling.js";
import { randomMatrix, recall, row } from "./retrieval/data.js";
import { drive, report, round, startSystem, summarize } from "./stats.js";

const HERE = fileURLToPath(new URL(".", import.meta.url));
/** The repository root: the nearest directory above this file holding package.json (dist/bench/ → ./). */
const ROOT = ((dir: string): string => {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "package.json"))) return d;
    if (dirname(d) === d) return dir;
  }
})(HERE);

const { values: flags } = parseArgs({
  options: {
    only: { type: "string", default: "embedder,shards,ingest" },
    n: { type: "string", default: "100000" },
    dim: { type: "string", default: "384" },
    queries: { type: "string", default: "1000" },
    "recall-queries": { type: "string", default: "200" },
    concurrency: { type: "string", default: "16" },
    "shard-procs": { type: "string", default: "2" },
    requests: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
    "encoder-hidden": { type: "string", default: "384" },
    corpus: { type: "string", default: join(ROOT, "..", "shared", "corpus", "nats-docs") },
    fresh: { type: "boolean", default: false },
  },
});
const only = new Set(flags.only.split(","));
const int = (name: keyof typeof flags) => {
  const v = Number(flags[name]);
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer`);
  return v;
};

/** p50/p99/max of latencies in ms, rounded. */
function latency(ms: number[]) {
  const s = summarize(ms);
  return { p50Ms: round(s.p50, 3), p99Ms: round(s.p99, 3), maxMs: round(s.max, 3) };
}

// ---------------------------------------------------------------- embedder

const WORDS = "stream consumer subject queue reply header cluster leaf gateway account token bucket object mirror source lease the of and a to in is for on with".split(" ");

async function benchEmbedder(server: NatsServer, workDir: string): Promise<void> {
  const modelDir = join(workDir, "encoder");
  const hidden = int("encoder-hidden");
  await buildTinyEncoder(modelDir, { hidden, maxPositions: 128, vocabSize: 1024 });
  const random = mulberry32(11);
  const texts = Array.from({ length: 256 }, () => Array.from({ length: 12 + Math.floor(random() * 12) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" "));
  const clients = 32;
  const total = clients * int("requests");
  const modes = {
    batched: { maxBatch: 32, maxWaitMs: 2 },
    unbatched: { maxBatch: 1, maxWaitMs: 0 },
  } as const;
  type Mode = keyof typeof modes;
  type Round = { rps: number; latencies: number[]; meanBatch: number; model: string };
  const rounds: Record<Mode, Round[]> = { batched: [], unbatched: [] };
  // Rounds alternate between the modes, so a noisy neighbour slows both alike; each mode reports its median round.
  for (let round = 0; round < int("rounds"); round++) {
    for (const mode of Object.keys(modes) as Mode[]) {
      const system = await startSystem(server.url, [embedderActor({ backend: "onnx", modelDir, batching: modes[mode] })]);
      try {
        const pool = system.pool(EmbedderKind);
        const embedOne = (i: number) => pool.ask({ type: "embed", texts: [texts[i % texts.length]!] });
        await drive(clients * 4, clients, embedOne); // warm-up
        const before = await pool.ask({ type: "stats" });
        const run = await drive(total, clients, embedOne);
        const after = await pool.ask({ type: "stats" });
        const meanBatch = (after.batchedTexts - before.batchedTexts) / Math.max(1, after.batches - before.batches);
        rounds[mode].push({ rps: total / run.seconds, latencies: run.latencies, meanBatch, model: after.model });
      } finally {
        await system.shutdown();
      }
    }
  }
  const median = (mode: Mode) => [...rounds[mode]].sort((a, b) => a.rps - b.rps)[Math.floor(rounds[mode].length / 2)]!;
  for (const mode of Object.keys(modes) as Mode[]) {
    const m = median(mode);
    report(`embedder.${mode}`, {
      model: `${m.model} (${hidden}-d fixture)`,
      clients,
      requestsPerRound: total,
      rounds: rounds[mode].length,
      requestsPerSec: round(m.rps, 1),
      allRounds: rounds[mode].map((r) => round(r.rps, 1)),
      ...latency(m.latencies),
      meanBatch: round(m.meanBatch, 2),
    });
  }
  report("embedder.ratio", { batchedOverUnbatched: round(median("batched").rps / median("unbatched").rps, 2), of: "median requests per second, same model, same run" });
}

// ---------------------------------------------------------------- shards

function runWorker(job: BuildJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(HERE, "retrieval", "build-index.js"), { workerData: job });
    worker.once("message", () => resolve());
    worker.once("error", reject);
    worker.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`build worker exited with ${code}`))));
  });
}

async function startShardNode(url: string, dataDir: string, spec: IndexSpec, shards: number[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(HERE, "retrieval", "shard-node.js"), url, dataDir, JSON.stringify(spec), shards.join(",")], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout!.setEncoding("utf8");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d: string) => {
      out += d;
      if (out.includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`shard node exited (${code}) before it was ready`)));
  });
  return child;
}

/** Exact top-k by cosine over every vector. */
function bruteForce(data: Float32Array, norms: Float32Array, dim: number, query: Float32Array, k: number): number[] {
  let qn = 0;
  for (const x of query) qn += x * x;
  qn = Math.sqrt(qn);
  const best: { i: number; s: number }[] = [];
  const n = norms.length;
  for (let i = 0; i < n; i++) {
    let dot = 0;
    const off = i * dim;
    for (let d = 0; d < dim; d++) dot += data[off + d]! * query[d]!;
    const s = dot / (norms[i]! * qn);
    if (best.length < k || s > best[best.length - 1]!.s) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}

async function benchShards(server: NatsServer): Promise<void> {
  const n = int("n");
  const dim = int("dim");
  const seed = 42;
  const params = { M: 16, efConstruction: 200, efSearch: 512 };
  const spec = IndexSpecSchema.parse({ name: "bench", shards: 4, replicas: 1, dimension: dim, ...params });
  const cache = join(ROOT, ".data", "bench", `shards-n${n}-d${dim}-s${seed}`);
  const baselineFile = join(cache, "baseline.bin");
  const done = join(cache, "shards", "bench", "3", "r0");
  if (flags.fresh || !existsSync(baselineFile) || !existsSync(done)) {
    await rm(cache, { recursive: true, force: true });
    await mkdir(join(cache, "shards"), { recursive: true });
    const started = performance.now();
    const common = { n, dim, seed, shards: spec.shards, index: spec.name, ...params };
    await Promise.all([runWorker({ ...common, what: "baseline", out: baselineFile }), runWorker({ ...common, what: "shards", out: join(cache, "shards") })]);
    report("shards.build", { n, dim, seconds: round((performance.now() - started) / 1000, 1), note: "two worker threads: the baseline index and the 4 shard snapshots (cached under .data/bench)" });
  }

  const data = randomMatrix(n, dim, seed);
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) norms[i] = Math.hypot(...row(data, dim, i));
  const queryCount = int("queries");
  const queries = randomMatrix(queryCount, dim, seed + 1);
  const recallCount = Math.min(int("recall-queries"), queryCount);
  const truth = Array.from({ length: recallCount }, (_, q) => bruteForce(data, norms, dim, row(queries, dim, q), 10));
  const base = { n, dim, k: 10, queries: queryCount, recallQueries: recallCount, ...params };

  // Baseline: one in-process index, synchronous searches, at the same efSearch and at efSearch × shards
  // (4 shards each walk a beam of efSearch, so the second line compares at a similar amount of search).
  const baseline = new hnswlib.HierarchicalNSW("cosine", dim);
  baseline.readIndexSync(baselineFile);
  let baselineQps = 0;
  for (const ef of [params.efSearch, params.efSearch * spec.shards]) {
    baseline.setEf(ef);
    const found: number[][] = [];
    const inProcess = await drive(queryCount, 1, async (q) => {
      const r = baseline.searchKnn(Array.from(row(queries, dim, q)), 10);
      if (q < recallCount) found[q] = r.neighbors;
    });
    const qps = queryCount / inProcess.seconds;
    if (ef === params.efSearch) baselineQps = qps;
    report(ef === params.efSearch ? "shards.in-process" : `shards.in-process.ef${ef}`, {
      impl: "one hnswlib-node index in this process",
      shards: 1,
      concurrency: 1,
      ...base,
      efSearch: ef,
      qps: round(qps, 1),
      ...latency(inProcess.latencies),
      recallAt10: round(recall(found, truth), 4),
    });
  }

  // Scatter-gather: the coordinator here, the shards in child processes.
  const procs = Math.min(int("shard-procs"), spec.shards);
  const children = await Promise.all(
    Array.from({ length: procs }, (_, p) => startShardNode(server.url, join(cache, "shards"), spec, Array.from({ length: spec.shards }, (_, s) => s).filter((s) => s % procs === p))),
  );
  const system = await startSystem(server.url, [coordinatorActor({ indexes: [spec], candidates: 10 })]);
  try {
    await ensureShards(system, spec, { timeoutMs: 120_000 });
    const coordinator = system.pool(CoordinatorKind);
    const search = (q: number) => coordinator.ask({ type: "search", vector: row(queries, dim, q).slice(), topK: 10, index: spec.name });
    await drive(100, 4, (i) => search(i % queryCount)); // warm-up
    const hits: string[][] = [];
    for (const concurrency of [1, int("concurrency")]) {
      const run = await drive(queryCount, concurrency, async (q) => {
        const answer = await search(q);
        if (answer.partial) throw new Error(`partial answer: ${answer.missingShards.join(", ")}`);
        if (q < recallCount) hits[q] = answer.hits.map((h) => h.id);
      });
      const qps = queryCount / run.seconds;
      report(`shards.scatter-gather.c${concurrency}`, {
        impl: "query coordinator here, 4 shard actors in child processes, over NATS",
        shards: spec.shards,
        shardProcesses: procs,
        concurrency,
        ...base,
        qps: round(qps, 1),
        qpsVsInProcess: round(qps / baselineQps, 2),
        ...latency(run.latencies),
        recallAt10: round(recall(hits, truth.map((t) => t.map((i) => `v${i}`))), 4),
      });
    }
  } finally {
    await system.shutdown();
    for (const c of children) {
      c.kill("SIGTERM");
      await once(c, "exit");
    }
  }
}

// ---------------------------------------------------------------- ingest

async function readCorpus(dir: string): Promise<DocumentInput[]> {
  const docs: DocumentInput[] = [];
  const walk = async (d: string) => {
    for (const entry of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(md|markdown|txt)$/i.test(entry.name)) {
        const text = await readFile(path, "utf8");
        if (text.trim().length > 0) docs.push({ id: relative(dir, path), text, metadata: { path: relative(dir, path) } });
      }
    }
  };
  await walk(dir);
  return docs;
}

async function benchIngest(server: NatsServer, workDir: string): Promise<void> {
  const corpus = flags.corpus;
  if (!existsSync(corpus) || !(await stat(corpus)).isDirectory()) {
    report("ingest", { skipped: `no corpus at ${corpus} (pass --corpus <dir of markdown files>)` });
    return;
  }
  const docs = await readCorpus(corpus);
  const spec = IndexSpecSchema.parse({ name: "corpus", shards: 4, replicas: 1, dimension: 384 });
  const indexes = [spec];
  const system = await startSystem(server.url, [
    embedderActor(),
    shardActor({ dataDir: join(workDir, "ingest-shards"), indexes }),
    ingestActor({ indexes, inFlight: 16 }),
  ]);
  try {
    await ensureShards(system, spec);
    const ingest = system.pool(IngestKind);
    const started = performance.now();
    for (let i = 0; i < docs.length; i += 50) await ingest.ask({ type: "ingest", index: spec.name, documents: docs.slice(i, i + 50) });
    const stored = performance.now();
    for (;;) {
      const p = await ingest.ask({ type: "progress" });
      if (p.pending === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await waitForShards(system.storage, system, spec, { timeoutMs: 600_000, pollMs: 10 });
    const seconds = (performance.now() - started) / 1000;
    const progress = await ingest.ask({ type: "progress" });
    report("ingest", {
      corpus: relative(ROOT, corpus) || corpus,
      embedder: "hash-384",
      shards: spec.shards,
      documents: docs.length,
      bytes: docs.reduce((s, d) => s + Buffer.byteLength(d.text), 0),
      chunks: progress.chunksWritten,
      errors: progress.errors,
      storedSeconds: round((stored - started) / 1000),
      seconds: round(seconds),
      chunksPerSec: round(progress.chunksWritten / seconds, 1),
      documentsPerSec: round(docs.length / seconds, 1),
    });
  } finally {
    await system.shutdown();
  }
}

// ---------------------------------------------------------------- main

const workDir = await mkdtemp(join(tmpdir(), "colmena-bench-"));
const server = await startNatsServer({ storeDir: join(workDir, "nats") });
try {
  if (only.has("embedder")) await benchEmbedder(server, workDir);
  if (only.has("shards")) await benchShards(server);
  if (only.has("ingest")) await benchIngest(server, workDir);
} finally {
  await server.stop();
  await rm(workDir, { recursive: true, force: true });
}
