// `npm run bench -- node [--corpus DIR] [--seconds S] [--rounds N] [--connections 1,16] [--profile DIR] [--set key=value]...`
//
// Colmena's embedded default (`colmena up` of this checkout, in its own
// process, documents posted through its HTTP API) beside the one-process
// monolith (node/monolith.ts: fastify, MiniSearch BM25 and hnswlib-node over
// hashed vectors, RRF, an extractive answer), both holding the NATS docs,
// under the same closed-loop load (node/load.ts) of distinct questions (no
// cache hit): for each connection count, blocks of `--seconds` alternate
// between the two, `--rounds` times each, so drift on the machine hits both
// alike. One JSON line per system and connection count (throughput: the
// median block; p50 and p99 over every block), then a ratio line. Where the
// corpus is absent it says so and exits 0. `--profile DIR` runs Colmena
// under `node --cpu-prof` (one profile per thread: bridge and actor thread);
// `--set key=value` passes a setting to `colmena up` (`--set actorThreads=2`).
// Beside each figure, the CPU time each system's processes (nats-server
// included, from /proc) spent per answered question: the figure other work
// on a shared machine bends least.
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ColmenaServer, CorpusMissing, DEFAULT_CORPUS, loadQuestions, readCorpus, treeCpuMs } from "../eval/index.js";
import { closedLoop, Questions, type LoadResult } from "./node/load.js";
import { report, round, summarize } from "./stats.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const { values } = parseArgs({
  options: {
    corpus: { type: "string", default: process.env.COLMENA_EVAL_CORPUS ?? DEFAULT_CORPUS },
    seconds: { type: "string", default: "5" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "1,16" },
    profile: { type: "string" },
    /** `key=value` settings for `colmena up` (repeatable), as its own `--set`. */
    set: { type: "string", multiple: true, default: [] },
  },
});
const corpusRoot = resolve(repoRoot, values.corpus!);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const connections = values.connections!.split(",").map(Number);

let docs;
try {
  docs = readCorpus(corpusRoot);
} catch (err) {
  if (!(err instanceof CorpusMissing)) throw err;
  report("node", { skipped: err.message });
  process.exit(0);
}

const monolith = spawn(process.execPath, [fileURLToPath(new URL("./node/monolith.js", import.meta.url)), corpusRoot], { stdio: ["ignore", "pipe", "inherit"] });
const monolithUrl = new Promise<string>((res, rej) => {
  let out = "";
  monolith.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out += d;
    const m = /ready (\S+)/.exec(out);
    if (m) res(m[1]!);
  });
  monolith.once("exit", (code) => rej(new Error(`the monolith exited with ${code} before it was ready`)));
});
const profile = values.profile ? ["--cpu-prof", "--cpu-prof-dir", resolve(values.profile)] : [];
const colmena = await ColmenaServer.start(repoRoot, { nodeArgs: profile, args: values.set!.flatMap((kv) => ["--set", kv]) });
try {
  await colmena.ingest(docs);
  const systems = [
    { name: "colmena", url: colmena.url, pid: colmena.pid, questions: new Questions(loadQuestions()) },
    { name: "monolith", url: await monolithUrl, pid: monolith.pid!, questions: new Questions(loadQuestions()) },
  ];
  for (const s of systems) await closedLoop(s.url, s.questions, 16, Math.min(3, seconds)); // JIT, connections, first-touch allocations
  for (const c of connections) {
    const runs = new Map<string, Array<LoadResult & { cpuMs?: number }>>(systems.map((s) => [s.name, []]));
    for (let r = 0; r < rounds; r++) {
      // Each round swaps who goes first.
      for (const s of r % 2 === 0 ? systems : [...systems].reverse()) {
        const cpu = treeCpuMs(s.pid);
        const block = await closedLoop(s.url, s.questions, c, seconds);
        const spent = treeCpuMs(s.pid);
        runs.get(s.name)!.push({ ...block, ...(cpu !== undefined && spent !== undefined && { cpuMs: (spent - cpu) / block.latencies.length }) });
      }
    }
    const figures = systems.map((s) => {
      const blocks = runs.get(s.name)!;
      const lat = summarize(blocks.flatMap((b) => b.latencies));
      const rps = median(blocks.map((b) => b.rps));
      const errors = blocks.reduce((n, b) => n + b.errors, 0);
      const firstError = blocks.find((b) => b.firstError)?.firstError;
      const cpuMs = blocks.every((b) => b.cpuMs !== undefined) ? median(blocks.map((b) => b.cpuMs!)) : NaN;
      report(`node.${s.name}.c${c}`, { unit: "ms", rps: round(rps, 1), p50: round(lat.p50 / 1_000, 2), p99: round(lat.p99 / 1_000, 2), cpu_ms_per_question: round(cpuMs, 2), answered: lat.n, errors, ...(firstError && { firstError }), blocks: blocks.map((b) => round(b.rps, 1)) });
      return { rps, p99: lat.p99 / 1_000, p50: lat.p50 / 1_000, cpuMs };
    });
    const [col, mono] = figures as [(typeof figures)[0], (typeof figures)[0]];
    report(`node.ratio.c${c}`, {
      throughput_ratio: round(col.rps / mono.rps, 3),
      p50_ratio: round(col.p50 / mono.p50, 3),
      p99_ratio: round(col.p99 / mono.p99, 3),
      cpu_per_question_ratio: round(col.cpuMs / mono.cpuMs, 3),
      target: c === 1 ? "colmena p99 <= monolith p99 (sequential)" : "colmena throughput >= 1.5x monolith",
    });
  }
} finally {
  await colmena.stop();
  monolith.kill("SIGTERM");
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
