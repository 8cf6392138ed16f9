/**
 * The phrase and proximity signal that BM25 lacks (it scores each term
 * alone): the share of the query's adjacent term pairs that also stand
 * close together, in the same order, in a chunk (within `WINDOW` index
 * terms, stop words not counted). "queue group" in a question rewards a
 * chunk about queue groups over one that says "queue" and, later, "group".
 */

/** Terms apart (in index terms) that still count as a phrase. */
const WINDOW = 3;

/** The pairs of a query's consecutive distinct terms. */
export function queryPairs(terms: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 1; i < terms.length; i++) if (terms[i - 1] !== terms[i]) pairs.push([terms[i - 1]!, terms[i]!]);
  return pairs;
}

/** 0..1: the share of `pairs` found in order within WINDOW terms of each other in any of the sequences. */
export function phraseShare(pairs: ReadonlyArray<readonly [string, string]>, sequences: ReadonlyArray<readonly string[]>): number {
  if (pairs.length === 0) return 0;
  let found = 0;
  for (const [a, b] of pairs) if (sequences.some((seq) => near(seq, a, b))) found++;
  return found / pairs.length;
}

function near(seq: readonly string[], a: string, b: string): boolean {
  for (let i = 0; i < seq.length; i++) {
    if (seq[i] !== a) continue;
    for (let j = i + 1; j <= i + WINDOW && j < seq.length; j++) if (seq[j] === b) return true;
  }
  return false;
}
