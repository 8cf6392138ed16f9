/**
 * The BM25 index's text analysis (MiniSearch's defaults, named here so the
 * index and the query pruning below cannot drift apart) and the document
 * frequency of every indexed term, which MiniSearch does not expose.
 */
import MiniSearch from "minisearch";

/** Splits text on whitespace and punctuation (MiniSearch's default). */
export const tokenize: (text: string) => string[] = MiniSearch.getDefault("tokenize");
/** Lower-cases a token (MiniSearch's default). */
export const processTerm: (term: string) => string = MiniSearch.getDefault("processTerm");

/** The distinct terms of `text`, each with how many times it occurs. */
export function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokenize(text)) {
    const term = processTerm(token);
    if (term) counts.set(term, (counts.get(term) ?? 0) + 1);
  }
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
