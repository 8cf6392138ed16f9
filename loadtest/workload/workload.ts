import type { IngestBody, QueryBody } from "../drivers/driver.js";
import { seeded, type Random } from "./random.js";
import type { WorkloadSource } from "./source.js";

export interface WorkloadOptions {
  seed: number;
  /** Share of queries (0–1) that repeat a question from the hot set, to exercise the answer cache. */
  repeatRatio: number;
  /** How many questions the hot set holds: the first ones asked. */
  hotSet: number;
  /** 0: every query opens a new session (no session_id); n: one of n session ids at random. */
  sessions: number;
  topK?: number;
  /** Prefix of the ids of documents this run ingests, so they can be told apart and removed. */
  idPrefix: string;
}

const MAX_REMEMBERED = 1_000_000;

/**
 * The requests of a run, seeded: queries (fresh questions, or a repeat from
 * the hot set with probability `repeatRatio`) and ingest batches of new
 * documents. A fresh question is one not asked before in this workload, so
 * only repeats can be answered from the cache (as long as the index does not
 * change under them).
 */
export class Workload {
  readonly #r: Random;
  readonly #asked = new Set<string>();
  readonly #hot: string[] = [];
  #docs = 0;
  readonly ingestedIds: string[] = [];

  constructor(
    readonly source: WorkloadSource,
    readonly options: WorkloadOptions,
  ) {
    if (!(options.repeatRatio >= 0 && options.repeatRatio <= 1)) throw new RangeError(`repeat ratio must be within 0–1, got ${options.repeatRatio}`);
    this.#r = seeded(options.seed);
  }

  query(): QueryBody {
    const o = this.options;
    const repeat = this.#hot.length > 0 && this.#r.next() < o.repeatRatio;
    const question = repeat ? this.#r.pick(this.#hot) : this.#fresh();
    return {
      question,
      ...(o.sessions > 0 && { session_id: `${o.idPrefix}-session-${this.#r.int(o.sessions)}` }),
      ...(o.topK !== undefined && { top_k: o.topK }),
    };
  }

  /** An ingest request of `count` new documents. */
  ingest(count: number): IngestBody {
    const documents = Array.from({ length: count }, () => {
      const id = `${this.options.idPrefix}-doc-${this.#docs++}`;
      this.ingestedIds.push(id);
      return { id, text: this.source.passage(this.#r), metadata: { source: "colmena-loadtest" } };
    });
    return { documents };
  }

  #fresh(): string {
    let q = this.source.question(this.#r);
    for (let i = 0; i < 8 && this.#asked.has(q); i++) q = this.source.question(this.#r);
    // The source ran out of new questions: combine two, which is new with high odds.
    for (let i = 0; this.#asked.has(q); i++) q = `${this.source.question(this.#r).replace(/[?.]$/, "")}, and ${this.source.question(this.#r).replace(/^./, (c) => c.toLowerCase())}${i > 8 ? ` (${i})` : ""}`;
    if (this.#asked.size < MAX_REMEMBERED) this.#asked.add(q);
    if (this.#hot.length < this.options.hotSet) this.#hot.push(q);
    return q;
  }
}
