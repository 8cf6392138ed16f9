// `npm run bench -- scaling`: does a second (fourth, eighth) llm node add its
// engine's capacity? Each llm node fronts its own engine peer (a real HTTP
// process with fixed slots and a fixed time per token, so the bottleneck is
// the engines, not this machine's CPU); a client node with no llm of its own
// streams generations through the runtime's routing at twice the slots in the
// cluster. Beside it, in the same run, the same engines called directly over
// HTTP, round robin, at the same concurrency. Then the sequential ask
// latency across a 3-server cluster (caller and host on different servers)
// beside one server. One JSON object per line.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { llmKind } from "../actors/index.js";
import { treeCpuMs } from "../eval/index.js";
import { startNatsCluster, startNatsServer } from "../nats/index.js";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../runtime/index.js";
import { Bench, PAYLOAD } from "./runtime-kinds.js";
import { buildIndex, queryMatrix, Retrieve, searchBatch, SEARCHES } from "./scaling/retrieval-kind.js";
import { report, round, sequential, summarize } from "./stats.js";

const SIZES = (process.env.BENCH_SCALING_NODES ?? "1,2,4,8").split(",").map(Number);
// The same engine at every size. Its cost is wall time, not CPU: what the
// runtime spends per generation (a stream, one frame and one credit per
// token) is CPU, so few long tokens keep 8 nodes, 8 engines and the client
// well inside 2 cores (`cpu_cores_used` says how far inside), and the
// measurement is of where the work goes, not of how fast this machine is.
const SLOTS = Number(process.env.BENCH_SCALING_SLOTS ?? 4);
const TOKENS = Number(process.env.BENCH_SCALING_TOKENS ?? 4);
const TOKEN_MS = Number(process.env.BENCH_SCALING_TOKEN_MS ?? 100);
const SECONDS = Number(process.env.BENCH_SCALING_SECONDS ?? 5);

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Starts a child and resolves with the first stdout line that starts with "ready". */
function child(file: string, args: string[]): Promise<{ proc: ChildProcess; ready: string }> {
  const proc = spawn(process.execPath, [here(file), ...args], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.startsWith("ready"));
      if (line) resolve({ proc, ready: line });
    });
    proc.once("exit", (code) => reject(new Error(`${file} exited with ${code} before it was ready`)));
  });
}

/** Cores' worth of CPU the given processes and this one used while `run` ran. */
async function cpuDuring<T>(pids: number[], run: () => Promise<T>): Promise<{ result: T; cores: number }> {
  // A process gone or not on Linux counts 0: the figure is then a lower bound.
  const total = () => pids.reduce((sum, pid) => sum + (treeCpuMs(pid) ?? 0) / 1_000, 0) + process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  const before = total();
  const t = performance.now();
  const result = await run();
  return { result, cores: (total() - before) / ((performance.now() - t) / 1_000) };
}

/**
 * `workers` callers, each calling `one` again as soon as it returns, for
 * `seconds` after a one-second warm-up. A call that fails is counted, not
 * timed (an engine's keep-alive socket closing under a starved machine
 * must not end the run).
 */
async function closedLoop(one: (i: number) => Promise<void>, workers: number, seconds: number): Promise<{ rps: number; p50: number; p99: number; errors: number }> {
  const warmUntil = performance.now() + 1_000;
  const endAt = warmUntil + seconds * 1_000;
  const ms: number[] = [];
  let n = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() < endAt) {
        const t = performance.now();
        try {
          await one(n++);
        } catch {
          errors++;
          continue;
        }
        if (t >= warmUntil && performance.now() <= endAt) ms.push(performance.now() - t);
      }
    }),
  );
  const s = summarize(ms);
  return { rps: ms.length / seconds, p50: s.p50, p99: s.p99, errors };
}

/** Generations each engine has served so far. */
const served = (urls: string[]) => Promise.all(urls.map(async (u) => ((await (await fetch(`${u}/stats`)).json()) as { served: number }).served));

async function direct(url: string): Promise<void> {
  const res = await fetch(`${url}/chat/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ model: "bench-engine", stream: true, messages: [{ role: "user", content: "q" }] }) });
  await res.text();
}

/** Sequential asks from a node with no instance of the kind to one that has, each connected to the server given. */
async function askLatency(callerUrl: string, hostUrl: string, namespace: string): Promise<{ p50: number; p99: number }> {
  const start = (url: string, nodeId: string, kinds: (typeof Bench)[]) =>
    ActorSystem.start({ config: loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": url, namespace, nodeId } }), kinds, log: pino({ level: "warn" }) });
  const host = await start(hostUrl, `${namespace}-host`, [Bench]);
  const caller = await start(callerUrl, `${namespace}-caller`, []);
  try {
    const ref = caller.pool(Bench);
    const ask = () => ref.ask({ type: "echo", value: PAYLOAD });
    await sequential(ask, 500); // warm-up
    const s = summarize(await sequential(ask, 3_000));
    return { p50: s.p50, p99: s.p99 };
  } finally {
    await caller.shutdown();
    await host.shutdown();
  }
}

/**
 * CPU-bound retrieval at each size over the 3-server cluster: N nodes (own
 * processes) hosting one single-threaded retrieval instance each, a client
 * node asking at two asks in flight per node; beside it, the same searches
 * in this process, one thread, no runtime. N nodes can reach N × one node
 * only with N free cores: `machine_cores` and the load say what there was.
 */
async function retrievalScaling(urls: string[]): Promise<void> {
  const index = buildIndex();
  const queries = queryMatrix();
  const inProcess = await closedLoop(async (i) => void searchBatch(index, queries, i % 256), 1, SECONDS);
  const one: { rps?: number } = {};
  for (const n of SIZES) {
    const namespace = `ret${n}`;
    const nodes = await Promise.all(Array.from({ length: n }, (_, i) => child("./scaling/retrieval-node.js", [urls.join(","), namespace, `ret-${n}-${i}`])));
    const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": urls, namespace, nodeId: `ret-client-${n}`, "runtime.heartbeatMs": 500, "runtime.leaseMs": 5_000 } });
    const client = await ActorSystem.start({ config, log: pino({ level: "warn" }) });
    try {
      while (client.membership.pools(Retrieve.kind, client.nodeId).length < n) await new Promise((r) => setTimeout(r, 50));
      const pids = nodes.map((c) => c.proc.pid!);
      const { result, cores } = await cpuDuring(pids, () => closedLoop(async (i) => void (await client.pool(Retrieve).ask({ type: "search", q: i % 256 }, { timeoutMs: 60_000 })), 2 * n, SECONDS));
      one.rps ??= n === 1 ? result.rps : undefined;
      report("retrieval-scaling", {
        nodes: n,
        unit: "asks/s",
        searches_per_ask: SEARCHES,
        colmena: round(result.rps),
        in_process_one_thread: round(inProcess.rps),
        ratio_to_in_process: round(result.rps / inProcess.rps, 3),
        vs_one_node: one.rps === undefined ? null : round(result.rps / one.rps, 3),
        p99_ms: round(result.p99),
        errors: result.errors,
        cpu_cores_used: round(cores),
        machine_cores: availableParallelism(),
        load_average_1m: round(loadavg()[0]!),
        target: "8 nodes >= 6.5x one node, on 16 cores",
        note: availableParallelism() < 16 ? `run on ${availableParallelism()} shared cores: the 16-core machine was not available, so N nodes cannot exceed ${availableParallelism()}x one node here` : undefined,
      });
    } finally {
      await client.shutdown();
      for (const c of nodes) c.proc.kill("SIGTERM");
      await Promise.all(nodes.map((c) => (c.proc.exitCode === null ? new Promise((r) => c.proc.once("exit", r)) : undefined)));
    }
  }
}

const dir = await mkdtemp(join(tmpdir(), "colmena-scaling-"));
const server = await startNatsServer({ storeDir: join(dir, "js") });
const Llm = llmKind(); // the pool's address; the client hosts none
const results: Array<{ nodes: number; rps: number; p99: number }> = [];
try {
  for (const n of SIZES) {
    const namespace = `scale${n}`;
    const engines = await Promise.all(Array.from({ length: n }, () => child("./scaling/engine.js", ["0", String(SLOTS), String(TOKENS), String(TOKEN_MS)])));
    const urls = engines.map((e) => `http://127.0.0.1:${e.ready.split(" ")[1]}/v1`);
    // A node keeps twice its engine's slots there, as a caller of vLLM does: the engine queues the rest
    // and starts the next one the moment a slot frees, rather than waiting for the node to send it.
    const nodes = await Promise.all(urls.map((url, i) => child("./scaling/llm-node.js", [server.url, namespace, `llm-${n}-${i}`, url, String(2 * SLOTS)])));
    const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": server.url, namespace, nodeId: `client-${n}`, "runtime.heartbeatMs": 500, "runtime.leaseMs": 2_000 } });
    const client = await ActorSystem.start({ config, log: pino({ level: "warn" }) });
    try {
      while (client.membership.pools(Llm.kind, client.nodeId).length < n) await new Promise((r) => setTimeout(r, 50));
      const workers = 2 * SLOTS * n;
      const pids = [server.pid, ...[...nodes, ...engines].map((c) => c.proc.pid!)];
      const servedBefore = await served(urls);
      const startedAt = performance.now();
      const { result: routed, cores } = await cpuDuring(pids, () =>
        closedLoop(async () => {
          for await (const _ of client.pool(Llm).stream({ type: "generate", messages: [{ role: "user", content: "q" }] }, { timeoutMs: 30_000 }));
        }, workers, SECONDS),
      );
      const elapsedS = (performance.now() - startedAt) / 1_000;
      const byEngine = (await served(urls)).map((x, i) => x - servedBefore[i]!);
      const even = byEngine.reduce((a, b) => a + b, 0) / n;
      const { result: straight, cores: directCores } = await cpuDuring(pids, () => closedLoop((i) => direct(urls[i % n]!), workers, SECONDS));
      results.push({ nodes: n, rps: routed.rps, p99: routed.p99 });
      report("llm-routing", {
        nodes: n,
        unit: "generations/s",
        colmena: round(routed.rps),
        direct: round(straight.rps),
        ratio: round(routed.rps / straight.rps, 3),
        colmena_p50_ms: round(routed.p50),
        colmena_p99_ms: round(routed.p99),
        direct_p99_ms: round(straight.p99),
        errors: routed.errors,
        direct_errors: straight.errors,
        engine: { slots: SLOTS, tokens: TOKENS, tokenMs: TOKEN_MS },
        // Where the routed generations went: each engine's count against an even share, and how busy the engines were kept.
        engine_share_min: round(Math.min(...byEngine) / even, 3),
        engine_share_max: round(Math.max(...byEngine) / even, 3),
        engine_utilisation: round((byEngine.reduce((a, b) => a + b, 0) * TOKENS * TOKEN_MS) / (1_000 * SLOTS * n * elapsedS), 3),
        // Every process of the case (client, nats-server, nodes, engines) over the run, against the machine's cores and its load (other users included).
        cpu_cores_used: round(cores),
        direct_cpu_cores_used: round(directCores),
        machine_cores: availableParallelism(),
        load_average_1m: round(loadavg()[0]!),
      });
    } finally {
      await client.shutdown();
      for (const c of [...nodes, ...engines]) c.proc.kill("SIGTERM");
      await Promise.all([...nodes, ...engines].map((c) => (c.proc.exitCode === null ? new Promise((r) => c.proc.once("exit", r)) : undefined)));
    }
  }
  const one = results.find((r) => r.nodes === 1);
  if (one) {
    for (const r of results) {
      report("llm-scaling", {
        nodes: r.nodes,
        efficiency: round(r.rps / (r.nodes * one.rps), 3),
        p99_vs_one_node: round(r.p99 / one.p99, 3),
        target: "efficiency >= 0.9 and p99 within 1.5x of one node's",
      });
    }
  }
  const cluster = await startNatsCluster({ size: 3, storeDir: join(dir, "cluster") });
  try {
    await retrievalScaling(cluster.urls);
    // The same ask through a 3-server cluster, caller and host on different servers, beside one server.
    const single = await askLatency(server.url, server.url, "lat-single");
    const routed = await askLatency(cluster.urls[0]!, cluster.urls[1]!, "lat-cluster");
    report("ask-latency-cluster", {
      unit: "us",
      single_server_p50: round(single.p50),
      cluster_p50: round(routed.p50),
      p50_ratio: round(routed.p50 / single.p50, 3),
      single_server_p99: round(single.p99),
      cluster_p99: round(routed.p99),
      p99_ratio: round(routed.p99 / single.p99, 3),
      n: 3_000,
    });
  } finally {
    await cluster.stop();
  }
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
