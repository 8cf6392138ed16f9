/**
 * One shard's searchable state: an HNSW graph (hnswlib-node, cosine) and a
 * BM25 index (MiniSearch) over the same chunks, kept in step by every write.
 * The chunk table (text, metadata) is held once, here; MiniSearch keeps only
 * its inverted index and HNSW only the vectors.
 */
import { join } from "node:path";
import hnswlib from "hnswlib-node";
import type { HierarchicalNSW } from "hnswlib-node";
import MiniSearch from "minisearch";
import type { Options as MiniSearchOptions, SearchOptions } from "minisearch";
import { ColmenaError } from "../../runtime/index.js";
import { yieldIfSpent } from "../../runtime/index.js";
import type { Chunk, Hit, Metadata, ShardIndexOptions, ShardQuery, ShardResults } from "./types.js";
import { checkChunk, checkQuery, positiveInt } from "./validate.js";
import { readJsonLines, writeJsonLines } from "./json-lines.js";
import { phraseShare, queryPairs } from "./proximity.js";
import { DocumentFrequencies, processTerm, termCounts, termSequence, tokenize } from "./text-terms.js";

const DEFAULTS = { M: 16, efConstruction: 200, efSearch: 512, initialCapacity: 1024 } as const;

/** A live chunk, without its vector (that lives in HNSW under `label`). */
interface Entry {
  label: number;
  id: string;
  docId: string;
  text: string;
  metadata: Metadata;
  ordinal?: number;
}

/** What BM25 indexes of a chunk: its text and, as fields of their own, its document's title, its heading path and its document's path. */
interface Bm25Doc {
  id: string;
  text: string;
  title: string;
  heading: string;
  path: string;
}

const BM25_OPTIONS: MiniSearchOptions<Bm25Doc> = { fields: ["text", "title", "heading", "path"], idField: "id", storeFields: [], tokenize, processTerm };
/**
 * Field weights of BM25F: a term in the title or heading says more about
 * what a chunk is about than one in its body. Set on the evaluation's
 * tuning half (eval/README.md).
 */
const FIELD_BOOST = { text: 1, title: 3, heading: 2, path: 2 };
/** How much a chunk's score grows when every query term pair stands together in it (proximity.ts): score × (1 + this × share). */
const PHRASE_BOOST = 0.5;
/** BM25 hits reranked by the phrase signal: the rest keep their order below them. */
const RERANK_DEPTH = 50;
/** BM25 leaves out query terms found in more than this fraction of the shard's chunks (see `#searchText`). */
const MAX_DOC_FRACTION = 0.2;
const HNSW_FILE = "hnsw.bin";
const CHUNKS_FILE = "chunks.jsonl";
const FILES_FORMAT = 1;

export class ShardIndex {
  readonly dimension: number;
  readonly M: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  #hnsw: HierarchicalNSW;
  #bm25: MiniSearch<Bm25Doc>;
  readonly #df = new DocumentFrequencies();
  readonly #byId = new Map<string, Entry>();
  readonly #byLabel = new Map<number, Entry>();
  readonly #byDoc = new Map<string, Set<string>>();
  /** Index-term sequences of each chunk's text, title and heading (the phrase signal), made when the chunk is added so no question pays for them. */
  readonly #sequences = new Map<string, string[][]>();
  /** Labels of deleted HNSW slots, reused before the graph grows. */
  #free: number[] = [];

  constructor(opts: ShardIndexOptions) {
    this.dimension = positiveInt("dimension", opts.dimension);
    this.M = positiveInt("M", opts.M ?? DEFAULTS.M, 2);
    this.efConstruction = positiveInt("efConstruction", opts.efConstruction ?? DEFAULTS.efConstruction);
    this.efSearch = positiveInt("efSearch", opts.efSearch ?? DEFAULTS.efSearch);
    const capacity = positiveInt("initialCapacity", opts.initialCapacity ?? DEFAULTS.initialCapacity);
    this.#hnsw = new hnswlib.HierarchicalNSW("cosine", this.dimension);
    this.#hnsw.initIndex({ maxElements: capacity, m: this.M, efConstruction: this.efConstruction });
    this.#hnsw.setEf(this.efSearch);
    this.#bm25 = new MiniSearch(BM25_OPTIONS);
  }

  /** Live chunks. */
  get size(): number {
    return this.#byId.size;
  }

  /** HNSW slots allocated; doubles when a new chunk finds no free slot. */
  get capacity(): number {
    return this.#hnsw.getMaxElements();
  }

  /** Adds a chunk, or replaces the chunk with the same id: applying a write twice leaves one entry. */
  upsert(chunk: Chunk): void {
    const c = checkChunk(chunk, this.dimension);
    const old = this.#byId.get(c.id);
    const label = old?.label ?? this.#allocate();
    // A live label is updated in place; a freed one is unmarked and overwritten.
    this.#hnsw.addPoint(c.vector, label);
    if (old !== undefined) this.#forget(old);
    const entry: Entry = { label, id: c.id, docId: c.docId, text: c.text, metadata: c.metadata };
    if (c.ordinal !== undefined) entry.ordinal = c.ordinal;
    this.#remember(entry);
  }

  /** Removes one chunk; false when there was none with this id. */
  delete(chunkId: string): boolean {
    const entry = this.#byId.get(chunkId);
    if (entry === undefined) return false;
    this.#hnsw.markDelete(entry.label);
    this.#free.push(entry.label);
    this.#forget(entry);
    return true;
  }

  /** Removes every chunk of a document; returns how many there were. */
  deleteDocument(docId: string): number {
    const ids = [...(this.#byDoc.get(docId) ?? [])];
    for (const id of ids) this.delete(id);
    return ids.length;
  }

  /** The live chunk with this id (without its vector), or undefined. */
  get(chunkId: string): Omit<Hit, "score"> | undefined {
    const entry = this.#byId.get(chunkId);
    if (entry === undefined) return undefined;
    const { score: _, ...chunk } = toHit(entry, 0);
    return chunk;
  }

  /** Ids of the live chunks of a document. */
  chunksOf(docId: string): string[] {
    return [...(this.#byDoc.get(docId) ?? [])];
  }

  /** Up to `k` hits per list, best first; `filter` restricts both lists. */
  search(query: ShardQuery): ShardResults {
    const q = checkQuery(query, this.dimension);
    const filter = q.filter !== undefined && Object.keys(q.filter).length > 0 ? q.filter : undefined;
    return {
      vector: q.vector === undefined ? [] : this.#searchVector(q.vector, q.k, filter),
      bm25: q.text === undefined ? [] : this.#searchText(q.text, q.k, filter),
    };
  }

  /**
   * Writes this index's files into `dir` and returns their names. Nothing
   * may change the index until the promise settles (the replica applies no
   * write while it snapshots); searches may run meanwhile. The HNSW graph is
   * written off the thread. BM25 is not written: `readFiles` rebuilds it
   * from the chunk texts, because serialising MiniSearch is one synchronous
   * call that grows with the shard and would hold the thread, and every
   * question on the node behind it, at every snapshot.
   */
  async writeFiles(dir: string): Promise<string[]> {
    await this.#hnsw.writeIndex(join(dir, HNSW_FILE));
    const header = { format: FILES_FORMAT, dimension: this.dimension, M: this.M, efConstruction: this.efConstruction, efSearch: this.efSearch };
    await writeJsonLines(join(dir, CHUNKS_FILE), [header, ...this.#byId.values()]);
    return [HNSW_FILE, CHUNKS_FILE];
  }

  /** Rebuilds an index from the files `writeFiles` wrote, BM25 from the chunk texts, in time slices. */
  static async readFiles(dir: string): Promise<ShardIndex> {
    const rows = readJsonLines(join(dir, CHUNKS_FILE));
    let index: ShardIndex;
    try {
      const header = parseHeader((await rows.next()).value);
      index = new ShardIndex({ ...header, initialCapacity: 1 });
      await index.#hnsw.readIndex(join(dir, HNSW_FILE));
      index.#hnsw.setEf(index.efSearch);
      for await (const row of rows) {
        index.#remember(parseEntry(row));
        await yieldIfSpent();
      }
    } finally {
      await rows.return(undefined);
    }
    const slots = index.#hnsw.getIdsList();
    const consistent =
      index.#hnsw.getNumDimensions() === index.dimension &&
      index.#bm25.documentCount === index.size &&
      [...index.#byLabel.keys()].every((label) => label < slots.length);
    if (!consistent) throw corrupt("files disagree with each other");
    index.#free = slots.filter((label) => !index.#byLabel.has(label)).sort((a, b) => b - a);
    return index;
  }

  #allocate(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    const label = this.#hnsw.getCurrentCount();
    if (label >= this.#hnsw.getMaxElements()) this.#hnsw.resizeIndex(this.#hnsw.getMaxElements() * 2);
    return label;
  }

  #remember(entry: Entry): void {
    this.#byId.set(entry.id, entry);
    this.#byLabel.set(entry.label, entry);
    const ids = this.#byDoc.get(entry.docId) ?? new Set<string>();
    this.#byDoc.set(entry.docId, ids.add(entry.id));
    const doc = bm25Doc(entry);
    this.#df.add(fieldsText(doc));
    this.#bm25.add(doc);
    this.#sequences.set(entry.id, [doc.text, doc.title, doc.heading].map(termSequence));
  }

  #forget(entry: Entry): void {
    this.#byId.delete(entry.id);
    this.#byLabel.delete(entry.label);
    const ids = this.#byDoc.get(entry.docId);
    ids?.delete(entry.id);
    if (ids?.size === 0) this.#byDoc.delete(entry.docId);
    const doc = bm25Doc(entry);
    this.#df.remove(fieldsText(doc));
    this.#bm25.remove(doc);
    this.#sequences.delete(entry.id);
  }

  #searchVector(vector: number[], k: number, filter: Metadata | undefined): Hit[] {
    const n = Math.min(k, this.size);
    if (n === 0) return [];
    const result =
      filter === undefined
        ? this.#hnsw.searchKnn(vector, n)
        : this.#hnsw.searchKnn(vector, n, (label) => {
            const entry = this.#byLabel.get(label);
            return entry !== undefined && matches(entry.metadata, filter);
          });
    const hits: Hit[] = [];
    result.neighbors.forEach((label, i) => {
      const entry = this.#byLabel.get(label);
      // Cosine space distance is 1 - cosine similarity.
      if (entry !== undefined) hits.push(toHit(entry, 1 - (result.distances[i] ?? 1)));
    });
    return hits;
  }

  /**
   * BM25 over the informative terms of `text`. A term found in more than
   * a fifth of the shard's chunks ("the", "a", "is", "for" in English; "de",
   * "la", "que" in Spanish; a word most chunks of the corpus repeat) tells
   * chunks apart poorly: its IDF is a fraction of a rare term's (the
   * classic Robertson-Spärck Jones IDF is zero past half). Yet MiniSearch
   * builds, scores and merges a result for every chunk that contains it, which is
   * most of the cost of a natural-language question. So such terms are left
   * out, whatever the language, and the rest searched as before (OR). The
   * whole query runs when no term is left or the rest match nothing, so a
   * question of common words only still finds chunks. A repeated term is
   * searched once with its count as boost (same scores as searching it twice).
   */
  #searchText(text: string, k: number, filter: Metadata | undefined): Hit[] {
    const counts = termCounts(text);
    const options: SearchOptions = { boost: FIELD_BOOST, boostTerm: (term) => counts.get(term) ?? 1 };
    if (filter !== undefined) options.filter = (r) => matches(this.#byId.get(r.id as string)?.metadata, filter);
    const terms = [...counts.keys()];
    const maxDf = MAX_DOC_FRACTION * this.#bm25.documentCount;
    const informative = terms.filter((term) => this.#df.of(term) <= maxDf);
    const pruned = informative.length > 0 && informative.length < terms.length ? this.#bm25.search(informative.join(" "), options) : [];
    const results = pruned.length > 0 ? pruned : this.#bm25.search(terms.join(" "), options);
    const pairs = queryPairs(termSequence(text));
    const hits: Hit[] = [];
    for (const [i, r] of results.slice(0, Math.max(k, RERANK_DEPTH)).entries()) {
      const entry = this.#byId.get(r.id as string);
      if (entry === undefined) continue;
      const boost = i < RERANK_DEPTH && pairs.length > 0 ? 1 + PHRASE_BOOST * phraseShare(pairs, this.#sequences.get(entry.id) ?? []) : 1;
      hits.push(toHit(entry, r.score * boost));
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, k);
  }

}

function bm25Doc(entry: Entry): Bm25Doc {
  const { title, heading, source } = entry.metadata;
  return {
    id: entry.id,
    text: entry.text,
    title: typeof title === "string" ? title : "",
    heading: typeof heading === "string" ? heading : "",
    path: typeof source === "string" ? source : entry.docId,
  };
}

/** Every field of a chunk as one text: a term is in the chunk when it is in any field. */
const fieldsText = (doc: Bm25Doc) => `${doc.text}\n${doc.title}\n${doc.heading}\n${doc.path}`;

function matches(metadata: Metadata | undefined, filter: Metadata): boolean {
  if (metadata === undefined) return false;
  for (const key in filter) if (metadata[key] !== filter[key]) return false;
  return true;
}

function toHit(entry: Entry, score: number): Hit {
  const hit: Hit = { id: entry.id, docId: entry.docId, score, text: entry.text, metadata: { ...entry.metadata } };
  if (entry.ordinal !== undefined) hit.ordinal = entry.ordinal;
  return hit;
}

const corrupt = (why: string) => new ColmenaError("INTERNAL", `shard index files are corrupt: ${why}`);

function parseHeader(value: unknown): Required<Omit<ShardIndexOptions, "initialCapacity">> {
  const h = value as Record<string, unknown> | undefined;
  if (h?.format !== FILES_FORMAT) throw corrupt(`unknown format ${String(h?.format)}`);
  const { dimension, M, efConstruction, efSearch } = h;
  if (![dimension, M, efConstruction, efSearch].every((n) => Number.isSafeInteger(n))) throw corrupt("bad header");
  return { dimension, M, efConstruction, efSearch } as Required<Omit<ShardIndexOptions, "initialCapacity">>;
}

function parseEntry(value: unknown): Entry {
  const e = value as Partial<Entry> | undefined;
  const ok =
    e !== undefined &&
    Number.isSafeInteger(e.label) &&
    typeof e.id === "string" &&
    typeof e.docId === "string" &&
    typeof e.text === "string" &&
    typeof e.metadata === "object" &&
    e.metadata !== null;
  if (!ok) throw corrupt("bad chunk row");
  return e as Entry;
}
