/**
 * What a question's retrieved documents become: one source per document for
 * the reader (title, path, heading, a snippet around the question's words,
 * a relative score) and one passage per document for the llm, so the
 * answer's citation [n] is the n-th source.
 */
import { questionTerms, terms, type Passage } from "../llm/index.js";
import type { DocumentHit } from "../query/index.js";
import type { Source } from "./api.js";

/**
 * Chunks of one document merged into its passage (its best ones, in
 * document order): three for the first FULL_PASSAGES documents, one for the
 * rest. The answer is composed from every passage, and the further chunks
 * of the documents ranked four and below changed no answer's key phrase on
 * the evaluation's tuning half while they were a fifth of the text the
 * answer reads (and of the prompt each question sends to the llm pool).
 */
const CHUNKS_PER_PASSAGE = 3;
const FULL_PASSAGES = 3;
const SNIPPET_CHARS = 240;

export function documentSources(question: string, docs: readonly DocumentHit[]): { sources: Source[]; passages: Passage[] } {
  const best = docs[0]?.score ?? 1;
  const wanted = new Set(questionTerms(question));
  const sources: Source[] = [];
  const passages: Passage[] = [];
  docs.forEach((doc, i) => {
    const top = doc.hits[0]!;
    const merged = doc.hits.slice(0, i < FULL_PASSAGES ? CHUNKS_PER_PASSAGE : 1).sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
    const text = merged.map((h) => h.text).join("\n\n");
    const path = String(top.metadata.source ?? doc.docId);
    const source: Source = {
      docId: doc.docId,
      chunkId: top.id,
      score: Math.round((doc.score / best) * 1000) / 1000,
      rank: i + 1,
      title: String(top.metadata.title ?? path),
      path,
      snippet: snippet(top.text, wanted),
      text: top.text,
      metadata: top.metadata,
    };
    if (top.ordinal !== undefined) source.ordinal = top.ordinal;
    if (typeof top.metadata.heading === "string") source.heading = top.metadata.heading;
    sources.push(source);
    passages.push({ text, source: path });
  });
  return { sources, passages };
}

/** About SNIPPET_CHARS of the chunk's prose (no headings, fences or code marks) around where the question's terms gather most. */
export function snippet(text: string, wanted: ReadonlySet<string>): string {
  const prose = text
    .split("\n")
    .filter((l) => !/^\s*(#{1,6}\s|```|~~~)/.test(l))
    .join(" ")
    .replace(/`/g, "")
    .replace(/\s+/g, " ")
    .trim();
  if (prose.length <= SNIPPET_CHARS) return prose;
  const words = prose.split(" ");
  const known = new Map<string, number>();
  const hit = words.map((w) => {
    let h = known.get(w);
    if (h === undefined) known.set(w, (h = terms(w).some((t) => wanted.has(t)) ? 1 : 0));
    return h;
  });
  // A window of words from each start, slid along: the one holding the most of the question's terms wins.
  let bestStart = 0;
  let bestHits = -1;
  let end = 0;
  let chars = 0;
  let hits = 0;
  for (let start = 0; start < words.length; start++) {
    while (end < words.length && chars + words[end]!.length + 1 <= SNIPPET_CHARS) {
      chars += words[end]!.length + 1;
      hits += hit[end]!;
      end++;
    }
    if (hits > bestHits) [bestStart, bestHits] = [start, hits];
    if (end === start) end++;
    else {
      chars -= words[start]!.length + 1;
      hits -= hit[start]!;
    }
  }
  let out = "";
  for (let j = bestStart; j < words.length && out.length + words[j]!.length < SNIPPET_CHARS; j++) out += `${out ? " " : ""}${words[j]}`;
  return `${bestStart > 0 ? "… " : ""}${out}${out.length < prose.length - 1 ? " …" : ""}`;
}
