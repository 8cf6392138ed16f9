/**
 * The baseline: plain BM25 as anyone would set it up in a few lines —
 * MiniSearch with its default options over fixed-size chunks of the raw
 * files (no markdown handling, no fields, no stemming). Its "answer" is the
 * top chunk's first `answerChars` characters, about as long as an
 * extractive answer, so the key-phrase rate compares like with like.
 */
import MiniSearch from "minisearch";

export const BASELINE_CHUNK_CHARS = 1_200;
const ANSWER_CHARS = 400;

interface BaselineChunk {
  id: number;
  file: string;
  text: string;
}

export class Bm25Baseline {
  readonly #search = new MiniSearch<BaselineChunk>({ fields: ["text"], storeFields: ["file", "text"] });
  #next = 0;

  add(file: string, text: string, chunkChars = BASELINE_CHUNK_CHARS): void {
    const chunks: BaselineChunk[] = [];
    for (let at = 0; at < text.length; at += chunkChars) chunks.push({ id: this.#next++, file, text: text.slice(at, at + chunkChars) });
    this.#search.addAll(chunks);
  }

  /** The files of the first `k` chunks, best first (a file may repeat), and the answer taken from the top chunk. */
  query(question: string, k = 10): { ranked: string[]; answer: string } {
    const results = this.#search.search(question).slice(0, k);
    return { ranked: results.map((r) => r.file as string), answer: String(results[0]?.text ?? "").slice(0, ANSWER_CHARS) };
  }
}
