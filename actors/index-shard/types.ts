/** Values a chunk's metadata may hold; filters compare them with `===`. */
export type MetadataValue = string | number | boolean;
export type Metadata = Record<string, MetadataValue>;

/** One embedded piece of a document, as the ingest workers write it. */
export interface Chunk {
  id: string;
  docId: string;
  text: string;
  vector: Float32Array | number[];
  metadata: Metadata;
  /** Position of the chunk in its document. */
  ordinal?: number;
}

/** One result of one retrieval list. `score` is higher-is-better within its list. */
export interface Hit {
  id: string;
  docId: string;
  /** Vector list: cosine similarity in [-1, 1]. BM25 list: MiniSearch's BM25 score. */
  score: number;
  text: string;
  metadata: Metadata;
  ordinal?: number;
}

export interface ShardQuery {
  vector?: Float32Array | number[];
  text?: string;
  k: number;
  /** Every key must equal the chunk's metadata value (`===`). */
  filter?: Metadata;
}

/** Both lists of one shard, each best first; a list is empty when its query part was absent. */
export interface ShardResults {
  vector: Hit[];
  bm25: Hit[];
}

export interface ShardIndexOptions {
  dimension: number;
  /** HNSW graph degree (default 16). */
  M?: number;
  /** HNSW build beam width (default 200). */
  efConstruction?: number;
  /** HNSW search beam width (default 512, see README for the recall it buys). */
  efSearch?: number;
  /** Slots allocated up front; the index doubles when full (default 1024). */
  initialCapacity?: number;
}
