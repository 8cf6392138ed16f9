// One case of the tracing benchmark, in its own process so each has its own
// SDK (or none): the tracing it runs under comes from OTEL_* alone, set by
// bench/tracing.ts, through the CLI's bootstrap as `colmena up` would. It
// prints one JSON line with its figures.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { ColmenaConfigSchema } from "../../cli/config.js";
import { startNode } from "../../cli/node.js";
import { startTelemetry } from "../../cli/telemetry.js";
import { startNatsServer } from "../../nats/index.js";
import { ActorSystem, loadConfig, RuntimeConfigSchema } from "../../runtime/index.js";
import { Bench, PAYLOAD } from "../runtime-kinds.js";
import { round, sequential, summarize } from "../stats.js";

const ASKS = Number(process.env.BENCH_TRACING_ASKS ?? 20_000);
const QUESTIONS = Number(process.env.BENCH_TRACING_QUESTIONS ?? 300);
const QUESTION_CONCURRENCY = 4;
const IN_FLIGHT = 64;

const telemetry = await startTelemetry(process.env, { nodeId: "bench", version: "0.0.0" });
const dir = await mkdtemp(join(tmpdir(), "colmena-bench-tracing-"));
const server = await startNatsServer({ storeDir: join(dir, "js") });
const log = pino({ level: "warn" });

async function throughput(fn: () => Promise<unknown>, n: number, inFlight: number): Promise<{ perSecond: number; latencies: number[] }> {
  let next = 0;
  const latencies: number[] = [];
  const t = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next++ < n) {
        const s = process.hrtime.bigint();
        await fn();
        latencies.push(Number(process.hrtime.bigint() - s) / 1e3);
      }
    }),
  );
  return { perSecond: n / (Number(process.hrtime.bigint() - t) / 1e9), latencies };
}

// Actor asks between two nodes over NATS: a producer and a consumer span per ask.
const runtime = (nodeId: string, kinds = [Bench]) => ActorSystem.start({ config: loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": server.url, nodeId } }), kinds, log });
const far = await runtime("bench-far");
const near = await runtime("bench-near", []);
const ref = near.pool(Bench);
await sequential(() => ref.ask({ type: "echo", value: PAYLOAD }), 2_000);
const askSeq = summarize(await sequential(() => ref.ask({ type: "echo", value: PAYLOAD }), 2_000));
const asks = await throughput(() => ref.ask({ type: "echo", value: PAYLOAD }), ASKS, IN_FLIGHT);
await near.shutdown();
await far.shutdown();

// Questions over HTTP: the bridge on one node, every actor role on another, each question new (no cache hits).
const config = (nodeId: string, roles: string[]) => loadConfig(ColmenaConfigSchema, { flags: { "nats.servers": server.url, dataDir: join(dir, nodeId), roles, "log.level": "warn", nodeId, "http.port": 0 } });
const actors = await startNode(config("actors", ["embedder", "shard", "ingest", "query", "llm", "session"]), { version: "0.0.0", log });
const edge = await startNode(config("edge", ["bridge"]), { version: "0.0.0", log });
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${edge.httpUrl!}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return res.json() as Promise<{ sources?: unknown[] }>;
};
const topics = ["queen", "drone", "worker", "hive", "honey", "wax", "pollen", "nectar", "swarm", "comb"];
await post("/v1/documents", { documents: topics.map((t, i) => ({ id: t, text: `The ${t} of a colony matters: fact ${i} about the ${t} is that bees keep the ${t} close all year.` })) });
for (let i = 0; i < 600 && ((await post("/v1/query", { question: "What about the pollen?" })).sources?.length ?? 0) === 0; i++) await new Promise((r) => setTimeout(r, 50));
let q = 0;
const ask = () => post("/v1/query", { question: `What is fact ${q} about the ${topics[q++ % topics.length]}?` });
await throughput(ask, 40, QUESTION_CONCURRENCY);
const questions = await throughput(ask, QUESTIONS, QUESTION_CONCURRENCY);
const qLat = summarize(questions.latencies);
await edge.stop();
await actors.stop();
await telemetry?.shutdown();
await server.stop();
await rm(dir, { recursive: true, force: true });

process.stdout.write(
  `${JSON.stringify({
    askP50Us: round(askSeq.p50, 1),
    askP99Us: round(askSeq.p99, 1),
    asksPerSecond: Math.round(asks.perSecond),
    questionsPerSecond: round(questions.perSecond, 1),
    questionP50Ms: round(qLat.p50 / 1000, 2),
    questionP99Ms: round(qLat.p99 / 1000, 2),
  })}\n`,
);
process.exit(0);
