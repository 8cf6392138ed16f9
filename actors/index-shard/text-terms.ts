/**
 * The BM25 index's text analysis, named here so the index, the query
 * pruning and the proximity signal cannot drift apart: MiniSearch's default
 * tokenizer (whitespace and punctuation), lower case, English stop words
 * dropped (the `stopword` package's list) and Porter stems (`stemmer`), so
 * "configuring", "configured" and "configuration" meet. Also the document
 * frequency of every indexed term, which MiniSearch does not expose.
 */
import MiniSearch from "minisearch";
import { stemmer } from "stemmer";
import { eng } from "stopword";

/** Splits text on whitespace and punctuation (MiniSearch's default). */
export const tokenize: (text: string) => string[] = MiniSearch.getDefault("tokenize");

/**
 * The library's list, the question words it lacks ("when", "why", "does")
 * and the "s" a possessive leaves ("a user's" is "user" and "s"): a
 * question's own wording is no evidence of what a chunk is about.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([...eng, "when", "why", "does", "doesn", "doing", "whether", "s"]);

/** Where an identifier's words meet: "discardOld", "DiscardOld", "JSONParser" (a lower-case letter or digit before a capital, or a capital before a capitalised word). */
const WORD_JOINT = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;

/**
 * A token's index terms: lower-cased and stemmed; none for a stop word,
 * which is not indexed. An identifier in camel case ("DiscardOld",
 * "MaxAckPending") is its own term and then its words' ("discard", "old"),
 * so a question in words finds the option's name and one naming it finds
 * it as before.
 */
export function processTerm(token: string): string[] | string | null {
  const lower = token.toLowerCase();
  const whole = termOf(lower);
  // Most tokens have no capital past their first letter, so no joint: the split is skipped.
  if (lower.slice(1) === token.slice(1)) return whole;
  const parts = token.split(WORD_JOINT);
  if (parts.length === 1) return whole;
  const out = whole === null ? [] : [whole];
  for (const part of parts) {
    const t = termOf(part.toLowerCase());
    if (t !== null && !out.includes(t)) out.push(t);
  }
  return out.length > 0 ? out : null;
}

function termOf(term: string): string | null {
  if (term === "" || STOP_WORDS.has(term)) return null;
  return stemmer(term);
}

/** The index terms of `text` in order (stop words left out). */
export function termSequence(text: string): string[] {
  const out: string[] = [];
  for (const token of tokenize(text)) {
    const term = processTerm(token);
    if (typeof term === "string") out.push(term);
    else if (term !== null) out.push(...term);
  }
  return out;
}

/** The distinct terms of `text`, each with how many times it occurs. */
export function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of termSequence(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/** How many indexed texts contain each term; kept in step with the BM25 index by its owner. */
export class DocumentFrequencies {
  readonly #df = new Map<string, number>();

  add(text: string): void {
    for (const term of termCounts(text).keys()) this.#df.set(term, (this.#df.get(term) ?? 0) + 1);
  }

  remove(text: string): void {
    for (const term of termCounts(text).keys()) {
      const n = (this.#df.get(term) ?? 0) - 1;
      if (n > 0) this.#df.set(term, n);
      else this.#df.delete(term);
    }
  }

  of(term: string): number {
    return this.#df.get(term) ?? 0;
  }
}
