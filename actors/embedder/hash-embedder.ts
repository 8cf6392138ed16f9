/**
 * The built-in lexical embedder: feature hashing of word unigrams and bigrams.
 * Download-free and deterministic, so the embedded default and the tests need
 * no model. Similar wording gives similar vectors; it knows no synonyms.
 */
import { ColmenaError } from "../../runtime/index.js";
import type { EmbedResult, Embedder } from "./embedder.js";
import { positiveInteger, validateText } from "./validate.js";
import { l2Normalize } from "./vector.js";

export interface HashEmbedderOptions {
  /** Vector length (default 384). */
  dimension?: number;
  /** Words kept per text; later words are dropped and the text flagged truncated (default 512). */
  maxTokens?: number;
}

const DEFAULT_DIMENSION = 384;
const DEFAULT_MAX_TOKENS = 512;

export class HashEmbedder implements Embedder {
  readonly id: string;
  readonly dimension: number;
  readonly maxTokens: number;
  #closed = false;

  constructor(opts: HashEmbedderOptions = {}) {
    this.dimension = positiveInteger("dimension", opts.dimension ?? DEFAULT_DIMENSION);
    this.maxTokens = positiveInteger("maxTokens", opts.maxTokens ?? DEFAULT_MAX_TOKENS);
    this.id = `hash-${this.dimension}${this.maxTokens === DEFAULT_MAX_TOKENS ? "" : `-t${this.maxTokens}`}`;
  }

  countTokens(texts: string[]): number[] {
    return texts.map((text, i) => {
      validateText(text, i);
      return words(text).length;
    });
  }

  async embed(texts: string[]): Promise<EmbedResult[]> {
    if (this.#closed) throw new ColmenaError("UNAVAILABLE", `embedder ${this.id} is closed`);
    return texts.map((text, i) => {
      validateText(text, i);
      const all = words(text);
      const kept = all.slice(0, this.maxTokens);
      return { vector: this.#vector(kept), truncated: kept.length < all.length, tokens: kept.length };
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #vector(tokens: string[]): Float32Array {
    const tf = new Map<string, number>();
    const count = (feature: string) => tf.set(feature, (tf.get(feature) ?? 0) + 1);
    tokens.forEach((token, i) => {
      count(token);
      if (i > 0) count(`${tokens[i - 1]}\u0000${token}`);
    });
    const v = new Float32Array(this.dimension);
    for (const [feature, n] of tf) {
      const h = hash32(feature);
      const sign = mix32(h ^ 0x9e3779b9) & 1 ? 1 : -1;
      v[h % this.dimension]! += sign * (1 + Math.log(n));
    }
    return l2Normalize(v);
  }
}

/** Latin and Greek letters followed by combining marks: the accents to fold. */
const ACCENTS = /(?<=[\p{Script=Latin}\p{Script=Greek}])\p{Mn}+/gu;
const WORD = /[\p{L}\p{N}\p{M}]+/gu;

/**
 * NFKC, lowercase, Latin and Greek accents folded, split on anything but
 * letters, digits and marks. A text with no word (only symbols) falls back to
 * its non-space characters, so it still gets a unit vector.
 */
function words(text: string): string[] {
  const folded = text.normalize("NFKC").toLowerCase().normalize("NFD").replace(ACCENTS, "").normalize("NFC");
  const found = folded.match(WORD);
  return found ?? [...folded.replace(/\s+/gu, "")];
}

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h);
}

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
