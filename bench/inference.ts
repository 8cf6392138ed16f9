/**
 * `npm run bench -- inference [--only loop,embedder,decoder,quantized]`: ONNX
 * inference on the suite's own fixtures, each case beside its baseline in the
 * same run (one JSON object per line).
 *
 *   loop       the event loop's delay (perf_hooks.monitorEventLoopDelay) while an
 *              ONNX embedder and decoder are saturated, inference in worker
 *              threads beside inference on the event loop's own thread
 *   embedder   32 concurrent single-text `embed` requests to the embedder actor,
 *              batched beside unbatched (maxBatch 1), same 384-d fixture
 *   decoder    tokens per second of 8 concurrent greedy generations (continuous
 *              batching) beside one alone, and time to first token under load
 *   quantized  int8 (QDQ) encoder and decoder fixtures beside the float ones:
 *              latency, memory, largest difference
 *   multiplex  one embedder instance serving two 384-d encoders under a budget
 *              that holds one: a request that swaps models (unload, load,
 *              embed) beside one to the model already loaded, and 8 concurrent
 *              requests at a model not loaded (all but one queue behind its load)
 */
import { mkdtemp, rm, stat } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Batcher, EmbedderKind, embedderActor, OnnxDecoderBackend, OnnxEmbedder, type GenerateRequest } from "../actors/index.js";
import type { InferenceThread } from "../actors/inference/index.js";
import { mulberry32 } from "../actors/llm/sampling.js";
import { startNatsServer } from "../nats/index.js";
import { buildTinyDecoder } from "../test/fixtures/decoder/build-decoder.js";
import { buildTinyEncoder } from "../test/fixtures/encoder/build-encoder.js";
import { quantizeModel } from "../test/fixtures/quantize.js";
import { drive, report, round, startSystem, summarize } from "./stats.js";

const { values: flags } = parseArgs({
  options: {
    only: { type: "string", default: "loop,embedder,decoder,quantized,multiplex" },
    seconds: { type: "string", default: "3" },
    rounds: { type: "string", default: "3" },
    requests: { type: "string", default: "100" },
    tokens: { type: "string", default: "64" },
  },
});
const only = new Set(flags.only.split(","));
const num = (name: keyof typeof flags) => {
  const v = Number(flags[name]);
  if (!(v > 0)) throw new Error(`--${name} must be positive`);
  return v;
};

const dir = await mkdtemp(join(tmpdir(), "colmena-bench-inference-"));
const encoderDir = join(dir, "encoder");
const decoderDir = join(dir, "decoder");
await buildTinyEncoder(encoderDir, { hidden: 384, maxPositions: 128, vocabSize: 1024 });
// The suite's decoder fixture as the tests build it, and a wider one (more compute per row) to show where CPU batching stops paying.
const decoder = await buildTinyDecoder(decoderDir);
const wideDecoderDir = join(dir, "decoder-wide");
const wideDecoder = await buildTinyDecoder(wideDecoderDir, { layers: 2, hidden: 512, heads: 8 });
const machine = `${availableParallelism()} cores (shared with other work)`;

const WORDS = "stream consumer subject queue reply header cluster leaf gateway account token bucket object mirror source lease the of and a to in is for on with".split(" ");
const random = mulberry32(11);
const texts = Array.from({ length: 256 }, () => Array.from({ length: 12 + Math.floor(random() * 12) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" "));
const QUESTIONS = ["What does the queen do?", "Where is the honey kept?", "Who collects nectar?", "What are drones for?", "How does a colony answer?", "What is wax for?", "Tell me about workers.", "Which passages are found?"];
const generation = (i: number, maxNewTokens: number): GenerateRequest => ({ messages: [{ role: "user", content: QUESTIONS[i % QUESTIONS.length]! }], maxNewTokens });
const live = () => new AbortController().signal;
const median = (xs: number[]) => summarize(xs).p50;
const quiet = { warn: () => {} };

/** One generation: its time to first token (ms) and its completion tokens. */
async function generate(backend: OnnxDecoderBackend, req: GenerateRequest): Promise<{ ttftMs: number; tokens: number }> {
  const t = performance.now();
  let ttftMs = NaN;
  let tokens = 0;
  for await (const e of backend.generate(req, live())) {
    if (e.type === "token" && Number.isNaN(ttftMs)) ttftMs = performance.now() - t;
    if (e.type === "done") tokens = e.completionTokens;
  }
  return { ttftMs, tokens };
}

// ---------------------------------------------------------------- event-loop delay
async function benchLoop(): Promise<void> {
  const seconds = num("seconds");
  const delay: Record<InferenceThread, { p50: number; p99: number; max: number; embedded: number; generated: number }> = {} as never;
  for (const thread of ["worker", "main"] as const) {
    const embedder = await OnnxEmbedder.load(encoderDir, { thread });
    const llm = await OnnxDecoderBackend.load({ modelDir: decoderDir, thread, ...quiet });
    await embedder.embed(texts.slice(0, 32));
    await generate(llm, generation(0, 4));
    let stop = false;
    let embedded = 0;
    let generated = 0;
    // Saturated: batches of 32 texts back to back from two callers, and 8 generations at all times.
    const embedding = Array.from({ length: 2 }, async (_, c) => {
      for (let i = 0; !stop; i++) embedded += (await embedder.embed(texts.slice((i * 32 + c * 7) % 200, ((i * 32 + c * 7) % 200) + 32))).length;
    });
    const generating = Array.from({ length: 8 }, async (_, c) => {
      for (let i = 0; !stop; i++) generated += (await generate(llm, generation(c + i, 32))).tokens;
    });
    await new Promise((r) => setTimeout(r, 300));
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    histogram.disable();
    stop = true;
    await Promise.all([...embedding, ...generating]);
    const ms = (ns: number) => round(ns / 1e6, 2);
    delay[thread] = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), embedded, generated };
    await embedder.close();
    await llm.close();
  }
  for (const thread of ["worker", "main"] as const) {
    report(`inference.loop-delay.${thread}`, {
      unit: "ms",
      inference: thread === "worker" ? "worker threads" : "on the event loop's thread",
      p50: delay[thread].p50,
      p99: delay[thread].p99,
      max: delay[thread].max,
      textsEmbedded: delay[thread].embedded,
      tokensGenerated: delay[thread].generated,
      seconds,
      machine,
    });
  }
  report("inference.loop-delay.ratio", { mainOverWorkerP99: round(delay.main.p99 / delay.worker.p99, 2), workerP99Ms: delay.worker.p99, target: "worker p99 < 5 ms", loadavg: loadavg().map((l) => round(l, 2)) });
}

// ---------------------------------------------------------------- embedder batching
async function benchEmbedder(): Promise<void> {
  const server = await startNatsServer({ storeDir: join(dir, "nats") });
  const clients = 32;
  const total = clients * num("requests");
  const modes = { batched: { maxBatch: 32, maxWaitMs: 2 }, unbatched: { maxBatch: 1, maxWaitMs: 0 } } as const;
  type Mode = keyof typeof modes;
  const rounds: Record<Mode, { rps: number; latencies: number[]; meanBatch: number }[]> = { batched: [], unbatched: [] };
  try {
    for (let r = 0; r < num("rounds"); r++) {
      for (const mode of Object.keys(modes) as Mode[]) {
        const system = await startSystem(server.url, [embedderActor({ backend: "onnx", modelDir: encoderDir, batching: modes[mode] })]);
        try {
          const pool = system.pool(EmbedderKind);
          const embedOne = (i: number) => pool.ask({ type: "embed", texts: [texts[i % texts.length]!] });
          await drive(clients * 4, clients, embedOne);
          const before = await pool.ask({ type: "stats" });
          const run = await drive(total, clients, embedOne);
          const after = await pool.ask({ type: "stats" });
          rounds[mode].push({ rps: total / run.seconds, latencies: run.latencies, meanBatch: (after.batchedTexts - before.batchedTexts) / Math.max(1, after.batches - before.batches) });
        } finally {
          await system.shutdown();
        }
      }
    }
  } finally {
    await server.stop();
  }
  const mid = (mode: Mode) => [...rounds[mode]].sort((a, b) => a.rps - b.rps)[Math.floor(rounds[mode].length / 2)]!;
  for (const mode of Object.keys(modes) as Mode[]) {
    const m = mid(mode);
    const s = summarize(m.latencies);
    report(`inference.embedder.${mode}`, {
      model: "384-d encoder fixture",
      clients,
      requestsPerSec: round(m.rps, 1),
      allRounds: rounds[mode].map((x) => round(x.rps, 1)),
      p50Ms: round(s.p50, 2),
      p99Ms: round(s.p99, 2),
      meanBatch: round(m.meanBatch, 2),
      machine,
    });
  }
  report("inference.embedder.ratio", { batchedOverUnbatched: round(mid("batched").rps / mid("unbatched").rps, 2), of: "median requests per second, same model, same run", target: ">= 3x", loadavg: loadavg().map((l) => round(l, 2)) });
}

/**
 * The same load without the actor runtime: 32 callers submit single texts to
 * a Batcher in front of one OnnxEmbedder. What the model side of batching
 * gives, apart from the per-message cost of the ask path.
 */
async function benchEmbedderModel(): Promise<void> {
  const total = 32 * num("requests");
  const embedder = await OnnxEmbedder.load(encoderDir);
  const rates: Record<"batched" | "unbatched", number[]> = { batched: [], unbatched: [] };
  try {
    for (let r = 0; r < num("rounds"); r++) {
      for (const mode of ["batched", "unbatched"] as const) {
        const batcher = new Batcher<string, unknown>({ maxBatch: mode === "batched" ? 32 : 1, maxWaitMs: mode === "batched" ? 2 : 0, run: (items) => embedder.embed(items) });
        await drive(128, 32, (i) => batcher.submit(texts[i % texts.length]!));
        const run = await drive(total, 32, (i) => batcher.submit(texts[i % texts.length]!));
        rates[mode].push(total / run.seconds);
      }
    }
  } finally {
    await embedder.close();
  }
  for (const mode of ["batched", "unbatched"] as const) report(`inference.embedder-model.${mode}`, { model: "384-d encoder fixture", clients: 32, textsPerSec: round(median(rates[mode]), 1), allRounds: rates[mode].map((x) => round(x, 1)), machine });
  report("inference.embedder-model.ratio", { batchedOverUnbatched: round(median(rates.batched) / median(rates.unbatched), 2), of: "median texts per second, no actor runtime, same run", loadavg: loadavg().map((l) => round(l, 2)) });
}

/**
 * Where an embed's time goes, one call at a time on a quiet model (no
 * concurrency, so nothing overlaps): tokenising a text, one `embed` of one
 * text, one `embed` of 32. Per text, the single call pays its whole fixed
 * cost (worker round trip, session setup) while the 32-text call shares
 * it; what is left per text is the model's own work, which batching cannot
 * shrink. Their ratio is the most batching can give this model on one
 * inference thread: the concurrent cases above can only beat it by
 * overlapping tokenisation with inference on the other core.
 */
async function benchEmbedderCost(): Promise<void> {
  const embedder = await OnnxEmbedder.load(encoderDir);
  const perText = async (size: number, calls: number) => {
    for (let i = 0; i < 20; i++) await embedder.embed(texts.slice(0, size));
    const t = performance.now();
    for (let i = 0; i < calls; i++) await embedder.embed(texts.slice((i * size) % (texts.length - size), ((i * size) % (texts.length - size)) + size));
    return ((performance.now() - t) * 1000) / (calls * size);
  };
  const rounds: { tokenise: number; one: number; batch: number }[] = [];
  try {
    for (let r = 0; r < num("rounds"); r++) {
      const t = performance.now();
      for (let i = 0; i < 4; i++) embedder.countTokens(texts);
      rounds.push({ tokenise: ((performance.now() - t) * 1000) / (4 * texts.length), one: await perText(1, 1000), batch: await perText(32, 60) });
    }
  } finally {
    await embedder.close();
  }
  const mid = (key: keyof (typeof rounds)[number]) => median(rounds.map((x) => x[key]));
  const tokens = embedder.countTokens(texts);
  report("inference.embedder-cost", {
    model: "384-d encoder fixture",
    meanTokensPerText: round(tokens.reduce((a, b) => a + b, 0) / tokens.length, 1),
    tokeniseUsPerText: round(mid("tokenise"), 1),
    embedOneUsPerText: round(mid("one"), 1),
    embed32UsPerText: round(mid("batch"), 1),
    ceiling: round(mid("one") / mid("batch"), 2),
    of: "per-text time of one embed of 1 text over one of 32, calls one at a time, median of rounds",
    machine,
    loadavg: loadavg().map((l) => round(l, 2)),
  });
}

// ---------------------------------------------------------------- decoder continuous batching
async function benchDecoder(label: string, modelDir: string, shape: typeof decoder): Promise<void> {
  const tokens = num("tokens");
  const llm = await OnnxDecoderBackend.load({ modelDir, ...quiet });
  await generate(llm, generation(0, 4));
  const one: { rate: number; ttft: number }[] = [];
  const eight: { rate: number; ttft: number[] }[] = [];
  for (let r = 0; r < num("rounds"); r++) {
    let t = performance.now();
    const alone = await generate(llm, generation(r, tokens));
    one.push({ rate: alone.tokens / ((performance.now() - t) / 1000), ttft: alone.ttftMs });
    t = performance.now();
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => generate(llm, generation(r + i, tokens))));
    eight.push({ rate: many.reduce((n, g) => n + g.tokens, 0) / ((performance.now() - t) / 1000), ttft: many.map((g) => g.ttftMs) });
  }
  await llm.close();
  const oneRate = median(one.map((x) => x.rate));
  const eightRate = median(eight.map((x) => x.rate));
  const model = `decoder fixture: ${shape.layers} layers, ${shape.heads} heads × ${shape.headDim}`;
  report(`inference.${label}.one`, { unit: "tokens/s", tokensPerSec: round(oneRate, 1), ttftMs: round(median(one.map((x) => x.ttft)), 2), newTokens: tokens, model, machine });
  const ttft = summarize(eight.flatMap((x) => x.ttft));
  report(`inference.${label}.eight`, { unit: "tokens/s", tokensPerSec: round(eightRate, 1), ttftUnderLoadP50Ms: round(ttft.p50, 2), ttftUnderLoadMaxMs: round(ttft.max, 2), newTokensEach: tokens, model, machine });
  report(`inference.${label}.ratio`, { eightOverOne: round(eightRate / oneRate, 2), of: "median tokens per second, same model, same run", target: ">= 4x" });
}

// ---------------------------------------------------------------- quantized against float
async function benchQuantized(): Promise<void> {
  const encoderInt8 = join(dir, "encoder-int8");
  const decoderInt8 = join(dir, "decoder-int8");
  await quantizeModel(encoderDir, encoderInt8);
  await quantizeModel(decoderDir, decoderInt8);
  const size = async (d: string) => (await stat(join(d, "model.onnx"))).size;
  const rss = () => process.memoryUsage().rss;
  const rows: Record<string, Record<string, number>> = {};
  // One load and close first, so neither measured load pays for starting onnxruntime.
  await (await OnnxEmbedder.load(encoderInt8)).close();
  const vectors: Record<string, Float32Array[]> = {};
  for (const [name, d] of [["float", encoderDir], ["int8", encoderInt8]] as const) {
    const before = rss();
    const e = await OnnxEmbedder.load(d, { name });
    const loadedBytes = rss() - before;
    const batch = texts.slice(0, 32);
    await e.embed(batch);
    const ms: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await e.embed(batch);
      ms.push(performance.now() - t);
    }
    vectors[name] = (await e.embed(batch)).map((r) => r.vector);
    rows[`encoder.${name}`] = { batch32P50Ms: round(median(ms), 2), fileBytes: await size(d), rssGrowthOnLoadBytes: loadedBytes };
    await e.close();
  }
  const cosine = vectors.float!.map((v, i) => v.reduce((s, x, j) => s + x * vectors.int8![i]![j]!, 0));
  for (const name of ["float", "int8"]) report(`inference.quantized.encoder.${name}`, { ...rows[`encoder.${name}`], machine });
  report("inference.quantized.encoder.ratio", { int8OverFloatLatency: round(rows["encoder.int8"]!.batch32P50Ms! / rows["encoder.float"]!.batch32P50Ms!, 2), int8OverFloatFile: round(rows["encoder.int8"]!.fileBytes! / rows["encoder.float"]!.fileBytes!, 2), minCosineToFloat: round(Math.min(...cosine), 6) });
  // Both loaded, then rounds alternate between them, so a noisy neighbour slows both alike.
  const llms: Record<string, OnnxDecoderBackend> = {};
  for (const [name, d] of [["float", decoderDir], ["int8", decoderInt8]] as const) {
    const before = rss();
    llms[name] = await OnnxDecoderBackend.load({ modelDir: d, ...quiet });
    rows[`decoder.${name}`] = { fileBytes: await size(d), rssGrowthOnLoadBytes: rss() - before };
    await generate(llms[name]!, generation(0, 4));
  }
  const rates: Record<string, number[]> = { float: [], int8: [] };
  for (let r = 0; r < 3 * num("rounds"); r++) {
    for (const name of ["float", "int8"]) {
      const t = performance.now();
      const g = await generate(llms[name]!, generation(r, num("tokens")));
      rates[name]!.push(g.tokens / ((performance.now() - t) / 1000));
    }
  }
  for (const name of ["float", "int8"]) {
    await llms[name]!.close();
    rows[`decoder.${name}`]!.tokensPerSec = round(median(rates[name]!), 1);
    report(`inference.quantized.decoder.${name}`, { ...rows[`decoder.${name}`], machine });
  }
  report("inference.quantized.decoder.ratio", { int8OverFloatTokensPerSec: round(rows["decoder.int8"]!.tokensPerSec! / rows["decoder.float"]!.tokensPerSec!, 2), int8OverFloatFile: round(rows["decoder.int8"]!.fileBytes! / rows["decoder.float"]!.fileBytes!, 2) });
}

/**
 * Model multiplexing's cost: the hash default and two 384-d encoders (the
 * embedder fixture, two seeds) under a memory budget that holds one encoder,
 * so a request alternating between them unloads one and loads the other.
 */
async function benchMultiplex(): Promise<void> {
  const a = join(dir, "mux-a");
  const b = join(dir, "mux-b");
  await buildTinyEncoder(a, { hidden: 384, maxPositions: 128, vocabSize: 1024, seed: 5 });
  await buildTinyEncoder(b, { hidden: 384, maxPositions: 128, vocabSize: 1024, seed: 6 });
  const bytes = (await stat(join(a, "model.onnx"))).size;
  const server = await startNatsServer({ storeDir: join(dir, "nats-mux") });
  const system = await startSystem(server.url, [
    embedderActor({ models: [{ id: "a", modelDir: a }, { id: "b", modelDir: b }], memoryBudgetBytes: Math.floor(bytes * 1.5), batching: { maxBatch: 32, maxWaitMs: 2 } }),
  ]);
  const n = Math.max(10, Math.floor(num("requests") / 5));
  try {
    const pool = system.pool(EmbedderKind);
    const embed = (model: string, i: number) => pool.ask({ type: "embed", texts: [texts[i % texts.length]!], model });
    const timed = async (f: () => Promise<unknown>) => {
      const t = performance.now();
      await f();
      return performance.now() - t;
    };
    await embed("a", 0);
    const warm: number[] = [];
    const swap: number[] = [];
    for (let i = 0; i < n; i++) {
      warm.push(await timed(() => embed(i % 2 === 0 ? "a" : "b", i)));
      warm.push(await timed(() => embed(i % 2 === 0 ? "a" : "b", i + 1)));
      // The other model: unload this one, load that one, embed.
      swap.push(await timed(() => embed(i % 2 === 0 ? "b" : "a", i)));
    }
    // 8 at once at the model not loaded: one starts its load, the others queue behind it.
    const cold = n % 2 === 0 ? "b" : "a";
    const sent = performance.now();
    const burst = await Promise.all(Array.from({ length: 8 }, (_, i) => embed(cold, i).then(() => performance.now() - sent)));
    const listed = await pool.ask({ type: "models" });
    const info = listed.models.find((m) => m.id === cold)!;
    const w = summarize(warm);
    const sw = summarize(swap);
    report("inference.multiplex.warm", { model: "384-d encoder fixture", requests: warm.length, p50Ms: round(w.p50, 2), p99Ms: round(w.p99, 2), machine, loadavg: loadavg().map((l) => round(l, 2)) });
    report("inference.multiplex.swap", { model: "384-d encoder fixture", modelBytes: bytes, requests: swap.length, p50Ms: round(sw.p50, 2), p99Ms: round(sw.p99, 2), machine, loadavg: loadavg().map((l) => round(l, 2)) });
    report("inference.multiplex.queued", { concurrent: 8, queuedBehindLoad: info.queued, lastLoadMs: round(info.lastLoadMs ?? 0, 1), replyMs: burst.sort((x, y) => x - y).map((ms) => round(ms, 1)), loadavg: loadavg().map((l) => round(l, 2)) });
    report("inference.multiplex.ratio", { swapOverWarmP50: round(sw.p50 / w.p50, 1), of: "median latency of a request that swaps models beside one to the loaded model, same run" });
  } finally {
    await system.shutdown();
    await server.stop();
  }
}

try {
  if (only.has("loop")) await benchLoop();
  if (only.has("embedder")) {
    await benchEmbedder();
    await benchEmbedderModel();
    await benchEmbedderCost();
  }
  if (only.has("decoder")) {
    await benchDecoder("decoder", decoderDir, decoder);
    await benchDecoder("decoder-wide", wideDecoderDir, wideDecoder);
  }
  if (only.has("quantized")) await benchQuantized();
  if (only.has("multiplex")) await benchMultiplex();
} finally {
  await rm(dir, { recursive: true, force: true });
}
