// `npm run bench -- generation`: token generation with the KV cache beside full
// recomputation (same tiny decoder, same run), and the latency of a repeated
// question at an L1 hit, an L2 hit (another node) and a miss. One JSON object per line.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { OnnxDecoderBackend, type CacheMode } from "../actors/llm/index.js";
import { ColmenaConfigSchema } from "../cli/config.js";
import { startNode, type RunningNode } from "../cli/node.js";
import { startNatsServer } from "../nats/index.js";
import { loadConfig } from "../runtime/index.js";
import { buildTinyDecoder } from "../test/fixtures/decoder/build-decoder.js";
import { report, round, summarize } from "./stats.js";

const NEW_TOKENS = 128;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const QUESTIONS = Number(process.env.BENCH_QUESTIONS ?? 40);
const dir = await mkdtemp(join(tmpdir(), "colmena-bench-gen-"));

// 1. KV cache against recomputation: the same prompt, greedy, exactly NEW_TOKENS new tokens.
const model = await buildTinyDecoder(join(dir, "decoder"), { layers: 4, hidden: 256, heads: 4 });
const backends = Object.fromEntries(
  await Promise.all(
    (["kv", "recompute"] as CacheMode[]).map(async (cache) => [cache, await OnnxDecoderBackend.load({ modelDir: model.dir, cache, intraOpNumThreads: 1, warn: () => {} })] as const),
  ),
) as Record<CacheMode, OnnxDecoderBackend>;
// A prompt of a RAG-like length (a few passages), as the pipeline sends.
const prompt = Array.from({ length: 5 }, () => "streams keep messages and consumers read them back with acknowledgements").join(". ");
const request = { messages: [{ role: "user" as const, content: prompt }], maxNewTokens: NEW_TOKENS };
async function tokensPerSecond(backend: OnnxDecoderBackend): Promise<{ rate: number; tokens: number }> {
  const t = process.hrtime.bigint();
  let tokens = 0;
  for await (const e of backend.generate(request, new AbortController().signal)) if (e.type === "done") tokens = e.completionTokens;
  return { rate: tokens / (Number(process.hrtime.bigint() - t) / 1e9), tokens };
}
await tokensPerSecond(backends.kv);
await tokensPerSecond(backends.recompute);
const rates: Record<CacheMode, number[]> = { kv: [], recompute: [] };
let generated = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of ["kv", "recompute"] as const) {
    const { rate, tokens } = await tokensPerSecond(backends[mode]);
    rates[mode].push(rate);
    generated = tokens;
  }
}
const median = (xs: number[]) => summarize(xs).p50;
report("decode-kv-cache-vs-recompute", {
  unit: "tokens/s",
  new_tokens: generated,
  kv: round(median(rates.kv), 1),
  recompute: round(median(rates.recompute), 1),
  ratio: round(median(rates.kv) / median(rates.recompute), 2),
  model: `tiny decoder: ${model.layers} layers, ${model.heads} heads × ${model.headDim}`,
  target: "kv >= 5x recompute",
});
await Promise.all(Object.values(backends).map((b) => b.close()));

// 2. The answer cache across two nodes on one NATS: miss on A, L1 hit on A (which shares it), L2 hit on B.
const nats = await startNatsServer({ storeDir: join(dir, "nats") });
const log = pino({ level: "warn" });
const node = (name: string): Promise<RunningNode> =>
  startNode(loadConfig(ColmenaConfigSchema, { flags: { nodeId: name, "nats.servers": nats.url, dataDir: join(dir, name), "http.port": 0 } }), { version: "0.0.0-bench", log });
const a = await node("bench-a");
const b = await node("bench-b");
const post = async (base: string, question: string) => {
  const t = process.hrtime.bigint();
  const res = await fetch(`${base}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question }) });
  const body = (await res.json()) as { cached: boolean };
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, cached: body.cached };
};
const docs = Array.from({ length: 50 }, (_, i) => ({ id: `d${i}`, text: `Topic ${i}: subject ${i} carries messages for service ${i}. Streams keep them and consumers ${i} read them back.` }));
await fetch(`${a.httpUrl}/v1/documents`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ documents: docs }) });
await new Promise((r) => setTimeout(r, 2_000));
const lat = { miss: [] as number[], l1: [] as number[], l2: [] as number[] };
for (let i = 0; i < QUESTIONS; i++) {
  const q = `What carries messages for service ${i}?`;
  const miss = await post(a.httpUrl!, q);
  const l1 = await post(a.httpUrl!, q);
  // A's first L1 hit promotes the answer to L2, written after that hit's reply.
  await new Promise((r) => setTimeout(r, 20));
  const l2 = await post(b.httpUrl!, q);
  if (miss.cached || !l1.cached || !l2.cached) throw new Error(`unexpected cache outcome for ${q}: ${JSON.stringify({ miss, l1, l2 })}`);
  lat.miss.push(miss.ms);
  lat.l1.push(l1.ms);
  lat.l2.push(l2.ms);
}
const s = { miss: summarize(lat.miss), l1: summarize(lat.l1), l2: summarize(lat.l2) };
report("repeated-question-latency", {
  unit: "ms (HTTP round trip)",
  miss_p50: round(s.miss.p50),
  l1_p50: round(s.l1.p50),
  l2_p50: round(s.l2.p50),
  miss_p99: round(s.miss.p99),
  l1_p99: round(s.l1.p99),
  l2_p99: round(s.l2.p99),
  l1_speedup: round(s.miss.p50 / s.l1.p50, 2),
  l2_speedup: round(s.miss.p50 / s.l2.p50, 2),
  questions: QUESTIONS,
});
await b.stop();
await a.stop();
await nats.stop();
await rm(dir, { recursive: true, force: true });
