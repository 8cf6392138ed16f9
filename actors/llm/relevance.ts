/**
 * Sentence relevance for the extractive backend: passages are split into
 * sentences (Intl.Segmenter), text into normalised terms (NFKC, lower case,
 * a light stop-word list, plural "s" folded), and each sentence scores the
 * idf-weighted sum of the question terms it contains.
 */
import type { Passage } from "./prompt.js";

export interface ScoredSentence {
  /** Index of the passage in the prompt (0-based). */
  passage: number;
  text: string;
  score: number;
}

const STOP_WORDS = new Set(
  ("a an and are as at be by can do does for from has have how i in is it its of on or that the their this to was " +
    "what when where which who why will with you your").split(" "),
);

const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

export function terms(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== "" && !STOP_WORDS.has(t))
    .map((t) => (t.length > 3 && t.endsWith("s") && !t.endsWith("ss") ? t.slice(0, -1) : t));
}

/**
 * Sentences that share at least one term with the question, best first; ties
 * keep passage order, then sentence order. Repeated sentences count once.
 */
export function rankSentences(question: string, passages: readonly Passage[]): ScoredSentence[] {
  const wanted = new Set(terms(question));
  const sentences = passages.flatMap((p, passage) =>
    Array.from(segmenter.segment(p.text), (s) => ({ passage, text: s.segment.trim(), terms: new Set(terms(s.segment)) })),
  );
  const df = new Map<string, number>();
  for (const s of sentences) for (const t of s.terms) if (wanted.has(t)) df.set(t, (df.get(t) ?? 0) + 1);
  const seen = new Set<string>();
  const scored: ScoredSentence[] = [];
  for (const s of sentences) {
    if (s.text === "" || seen.has(s.text)) continue;
    seen.add(s.text);
    let score = 0;
    for (const t of s.terms) if (wanted.has(t)) score += Math.log(1 + sentences.length / (df.get(t) as number));
    if (score > 0) scored.push({ passage: s.passage, text: s.text, score });
  }
  return scored.sort((a, b) => b.score - a.score);
}
