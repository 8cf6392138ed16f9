import assert from "node:assert/strict";
import { test } from "node:test";
import { Bm25Baseline } from "../../eval/bm25-baseline.js";
import { keyPhraseHit, ndcgAt, quantile, recallAt, reciprocalRank, summarize } from "../../eval/metrics.js";
import { loadQuestions } from "../../eval/questions.js";

test("eval - recall, MRR and nDCG count files by their first appearance", () => {
  const relevant = new Set(["b.md", "d.md"]);
  const ranked = ["a.md", "b.md", "b.md", "c.md", "d.md"];
  assert.equal(recallAt(ranked, relevant, 1), 0);
  assert.equal(recallAt(ranked, relevant, 2), 1);
  assert.equal(reciprocalRank(ranked, relevant), 0.5);
  assert.equal(reciprocalRank(["x.md"], relevant), 0);
  const ideal = 1 + 1 / Math.log2(3);
  assert.ok(Math.abs(ndcgAt(ranked, relevant, 10) - (1 / Math.log2(3) + 1 / Math.log2(6)) / ideal) < 1e-9, "a repeated file gains nothing");
  assert.equal(ndcgAt(["b.md", "d.md"], relevant, 10), 1);
});

test("eval - key phrases match ignoring case, code marks and spacing; p50 is the nearest-rank median", () => {
  assert.equal(keyPhraseHit("Run `nats  stream add` now", ["NATS stream add"]), 1);
  assert.equal(keyPhraseHit("nothing here", ["a", "b"]), 0);
  assert.equal(quantile([5, 1, 3], 0.5), 3);
  const s = summarize([
    { ranked: ["a"], relevant: new Set(["a"]), answer: "x", keyPhrases: ["x"], latencyMs: 2 },
    { ranked: ["b"], relevant: new Set(["a"]), answer: "y", keyPhrases: ["x"], latencyMs: 4 },
  ]);
  assert.deepEqual([s["recall@1"], s.mrr, s.keyPhraseRate, s.p50Ms, s.questions], [0.5, 0.5, 0.5, 2, 2]);
});

test("eval - the BM25 baseline ranks fixed-size chunks and answers from the top one", () => {
  const bm25 = new Bm25Baseline();
  bm25.add("bees.md", "The queen lays eggs. Workers collect nectar.", 20);
  bm25.add("hive.md", "Honey is stored in wax cells.");
  const { ranked, answer } = bm25.query("where is honey stored");
  assert.deepEqual(ranked, ["hive.md"]);
  assert.equal(answer, "Honey is stored in wax cells.");
  assert.deepEqual(bm25.query("queen").ranked, ["bees.md"], "the file of the chunk that matched");
});

test("eval - the question set is large enough, split once into two halves, and well formed", () => {
  const questions = loadQuestions();
  assert.ok(questions.length >= 120, `${questions.length} questions`);
  assert.ok(new Set(questions.flatMap((q) => q.files)).size >= 70, "at least 70 files");
  const half = (split: string) => questions.filter((q) => q.split === split).length;
  assert.ok(half("tuning") >= 60 && half("heldout") >= 60);
  for (const q of questions) assert.ok(q.files.every((f) => f.endsWith(".md") && !f.startsWith("/")), q.id);
});
