/**
 * One entry per document: a reader wants to know which documents answer a
 * question, and five chunks of one file among five sources say less than
 * five files. The fused chunk ranking is folded into documents, each with
 * its chunks best first; a document ranks by its best chunk, and a second
 * matching chunk adds a share of its own score (a document that matches in
 * two places is more likely about the question).
 */
import type { FusedHit } from "./fusion.js";

export interface DocumentHit {
  docId: string;
  /** Best chunk's fused score plus SECOND_CHUNK_SHARE of the second's. */
  score: number;
  /** The document's chunks from the ranking, best first. */
  hits: FusedHit[];
}

/** Weight of a document's second-best chunk in its score; set on the evaluation's tuning half. */
const SECOND_CHUNK_SHARE = 0.25;

/** The first `maxDocs` documents of a fused ranking, best first (ties: the order of their best chunks). */
export function groupByDocument(hits: readonly FusedHit[], maxDocs: number): DocumentHit[] {
  const docs = new Map<string, DocumentHit>();
  for (const hit of hits) {
    const doc = docs.get(hit.docId);
    if (doc === undefined) docs.set(hit.docId, { docId: hit.docId, score: hit.score, hits: [hit] });
    else {
      if (doc.hits.length === 1) doc.score += SECOND_CHUNK_SHARE * hit.score;
      doc.hits.push(hit);
    }
  }
  // A stable sort: documents that tie keep the order of their best chunks.
  return [...docs.values()].sort((a, b) => b.score - a.score).slice(0, maxDocs);
}
