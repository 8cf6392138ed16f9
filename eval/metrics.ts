/**
 * Retrieval and answer metrics over a ranked list of files (one entry per
 * source, in the order the system gave them; a file may repeat).
 * recall@k: a relevant file among the first k entries. MRR: 1 / the rank of
 * the first relevant entry. nDCG@k: binary gain for each relevant file at its
 * first appearance, against the ideal ordering of the relevant files.
 */

export function recallAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  return ranked.slice(0, k).some((f) => relevant.has(f)) ? 1 : 0;
}

export function reciprocalRank(ranked: readonly string[], relevant: ReadonlySet<string>): number {
  const i = ranked.findIndex((f) => relevant.has(f));
  return i < 0 ? 0 : 1 / (i + 1);
}

export function ndcgAt(ranked: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  const seen = new Set<string>();
  let dcg = 0;
  ranked.slice(0, k).forEach((f, i) => {
    if (relevant.has(f) && !seen.has(f)) dcg += 1 / Math.log2(i + 2);
    seen.add(f);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

/** Lower case, markdown emphasis and code marks dropped, blank space folded: how phrases and answers are compared. */
export function normalizePhrase(text: string): string {
  return text.toLowerCase().replace(/[`*_\\]/g, "").replace(/\s+/g, " ").trim();
}

/** 1 when the answer holds any of the key phrases. */
export function keyPhraseHit(answer: string, phrases: readonly string[]): number {
  const a = normalizePhrase(answer);
  return phrases.some((p) => a.includes(normalizePhrase(p))) ? 1 : 0;
}

/** The q-quantile (0..1) of the values, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export interface Outcome {
  ranked: string[];
  relevant: ReadonlySet<string>;
  answer: string;
  keyPhrases: readonly string[];
  latencyMs: number;
}

export interface Summary {
  questions: number;
  "recall@1": number;
  "recall@5": number;
  "recall@10": number;
  mrr: number;
  "ndcg@10": number;
  keyPhraseRate: number;
  /** Median answer length in words: a longer answer holds a key phrase more often, so the rate is read beside it. */
  answerWordsP50: number;
  p50Ms: number;
}

export function summarize(outcomes: readonly Outcome[]): Summary {
  const mean = (f: (o: Outcome) => number) => round(outcomes.reduce((s, o) => s + f(o), 0) / Math.max(1, outcomes.length));
  return {
    questions: outcomes.length,
    "recall@1": mean((o) => recallAt(o.ranked, o.relevant, 1)),
    "recall@5": mean((o) => recallAt(o.ranked, o.relevant, 5)),
    "recall@10": mean((o) => recallAt(o.ranked, o.relevant, 10)),
    mrr: mean((o) => reciprocalRank(o.ranked, o.relevant)),
    "ndcg@10": mean((o) => ndcgAt(o.ranked, o.relevant, 10)),
    keyPhraseRate: mean((o) => keyPhraseHit(o.answer, o.keyPhrases)),
    answerWordsP50: quantile(outcomes.map((o) => o.answer.split(/\s+/).filter((w) => w !== "").length), 0.5),
    p50Ms: round(quantile(outcomes.map((o) => o.latencyMs), 0.5)),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
