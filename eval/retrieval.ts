/**
 * `npm run eval -- retrieval [--corpus DIR] [--compare REPO] [--top-k N] [--misses] [--set key=value]...`
 *
 * Ingests the corpus into Colmena's embedded default (`colmena up` of this
 * checkout, through its HTTP API) and into plain BM25 (bm25-baseline.ts),
 * asks every question of eval/questions.json of both, and prints one JSON
 * object per line per split and system: recall@1/5/10, MRR and nDCG@10 by
 * file, the answer key-phrase rate and the p50 query latency. `--compare`
 * runs another built checkout (for example main's) beside it in the same
 * run, its questions interleaved with this one's, so the latency ratio is
 * measured under the same load. A last line per split gives the ratios the
 * targets are stated in, and a last line the CPU time each Colmena's
 * processes (its nats-server included) spent per question over the whole
 * run, which a busy machine bends less than latency. `--misses` lists the tuning half's misses on
 * stderr (never the held-out half's: it is not for tuning).
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { Bm25Baseline } from "./bm25-baseline.js";
import { ColmenaServer } from "./colmena-server.js";
import { CorpusMissing, DEFAULT_CORPUS, readCorpus } from "./corpus.js";
import { keyPhraseHit, recallAt, summarize, type Outcome } from "./metrics.js";
import { treeCpuMs } from "./process-cpu.js";
import { loadQuestions, SPLITS, type Question } from "./questions.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      corpus: { type: "string", default: process.env.COLMENA_EVAL_CORPUS ?? DEFAULT_CORPUS },
      compare: { type: "string", default: process.env.COLMENA_EVAL_COMPARE },
      "top-k": { type: "string", default: "10" },
      misses: { type: "boolean", default: false },
      /** `key=value` settings for this checkout's `colmena up` (repeatable), as its own `--set`: how a default is tried on the tuning half. */
      set: { type: "string", multiple: true, default: [] },
    },
  });
  const corpusRoot = resolve(repoRoot, values.corpus!);
  let docs;
  try {
    docs = readCorpus(corpusRoot);
  } catch (err) {
    if (!(err instanceof CorpusMissing)) throw err;
    console.log(JSON.stringify({ suite: "retrieval", skipped: err.message }));
    return;
  }
  const topK = Number(values["top-k"]);
  const questions = loadQuestions();

  const bm25 = new Bm25Baseline();
  for (const d of docs) bm25.add(d.metadata.source, d.text);

  const systems: { name: string; server: ColmenaServer }[] = [{ name: "colmena", server: await ColmenaServer.start(repoRoot, { args: values.set!.flatMap((kv) => ["--set", kv]) }) }];
  if (values.compare) systems.push({ name: "compare", server: await ColmenaServer.start(resolve(values.compare)) });
  try {
    await Promise.all(systems.map((s) => s.server.ingest(docs)));
    const outcomes = new Map<string, Map<string, Outcome>>([["bm25", new Map()], ...systems.map((s) => [s.name, new Map()] as [string, Map<string, Outcome>])]);
    const cpuBefore = systems.map((s) => treeCpuMs(s.server.pid));
    for (const q of questions) {
      const relevant = new Set(q.files);
      for (const s of systems) {
        const a = await s.server.ask(q.question, topK);
        outcomes.get(s.name)!.set(q.id, { ...a, relevant, keyPhrases: q.keyPhrases });
      }
      const started = performance.now();
      const b = bm25.query(q.question, topK);
      outcomes.get("bm25")!.set(q.id, { ...b, latencyMs: performance.now() - started, relevant, keyPhrases: q.keyPhrases });
    }
    const cpuPerQuestion = systems.map((s, i) => {
      const after = treeCpuMs(s.server.pid);
      return after === undefined || cpuBefore[i] === undefined ? Number.NaN : (after - cpuBefore[i]!) / questions.length;
    });
    for (const split of SPLITS) {
      const ids = questions.filter((q) => q.split === split).map((q) => q.id);
      const summaries = new Map([...outcomes].map(([name, byId]) => [name, summarize(ids.map((id) => byId.get(id)!))]));
      for (const [system, summary] of summaries) console.log(JSON.stringify({ suite: "retrieval", split, system, ...summary }));
      const ours = summaries.get("colmena")!;
      const ratios: Record<string, number> = { "recall@5 vs bm25": ratio(ours["recall@5"], summaries.get("bm25")!["recall@5"]) };
      const compared = summaries.get("compare");
      if (compared) ratios["p50 vs compare"] = ratio(ours.p50Ms, compared.p50Ms);
      console.log(JSON.stringify({ suite: "retrieval", split, case: "ratios", ...ratios }));
    }
    const cpu: Record<string, number> = Object.fromEntries(systems.map((s, i) => [`${s.name} cpu ms per question`, ratio(cpuPerQuestion[i]!, 1)]));
    if (systems.length > 1) cpu["cpu vs compare"] = ratio(cpuPerQuestion[0]!, cpuPerQuestion[1]!);
    console.log(JSON.stringify({ suite: "retrieval", split: "all", case: "cpu", ...cpu }));
    if (values.misses) printMisses(questions.filter((q) => q.split === "tuning"), outcomes.get("colmena")!);
  } finally {
    await Promise.all(systems.map((s) => s.server.stop()));
  }
}

function printMisses(questions: Question[], outcomes: Map<string, Outcome>): void {
  for (const q of questions) {
    const o = outcomes.get(q.id)!;
    const retrieval = recallAt(o.ranked, o.relevant, 5) === 0;
    const answer = keyPhraseHit(o.answer, q.keyPhrases) === 0;
    if (!retrieval && !answer) continue;
    const what = [retrieval && "recall@5", answer && "key phrase"].filter(Boolean).join(", ");
    console.error(`${q.id} (${what}): ${q.question}\n  want ${q.files.join(" ")} | ${q.keyPhrases.join("; ")}\n  got  ${o.ranked.slice(0, 5).join(" ")}\n  answer ${o.answer.slice(0, 400).replace(/\n/g, "\\n")}`);
  }
}

const ratio = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;

await main();
