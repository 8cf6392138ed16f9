/**
 * Where a piece of text may end, and how good each place is. A position is
 * the offset just after a separator, so a piece ending there keeps the
 * separator and the next piece starts on content.
 */
import type { CodeRange } from "./markdown-sections.js";

/** Higher is a better place to split. A position carries the highest level that applies. */
export const Level = { CODE_WORD: 1, WORD: 2, LINE: 3, SENTENCE: 4, PARAGRAPH: 5 } as const;

type Rule = readonly [RegExp, number];

const PROSE: readonly Rule[] = [
  [/\n[ \t]*\n(?:[ \t]*\n)*/g, Level.PARAGRAPH],
  [/[.!?]["'”’)\]]*\s+|[。！？]+/g, Level.SENTENCE],
  [/\n/g, Level.LINE],
  [/\s+/g, Level.WORD],
];

/** Inside a code block only line ends are good places; a space is a last resort below any prose word break. */
const CODE: readonly Rule[] = [
  [/\n/g, Level.LINE],
  [/[ \t]+/g, Level.CODE_WORD],
];

export class BreakPoints {
  readonly #positions: number[] = [];
  readonly #levels: number[] = [];

  /** The breaks strictly between `from` and `to`, leaving out every one at or before `floor`. */
  constructor(text: string, from: number, to: number, floor: number, code: readonly CodeRange[]) {
    const found = new Map<number, number>();
    const add = (position: number, level: number) => {
      if (position > from && position > floor && position < to && (found.get(position) ?? 0) < level) found.set(position, level);
    };
    let cursor = from;
    for (const block of code) {
      if (block.end <= from || block.start >= to) continue;
      scan(text, cursor, block.start, PROSE, add);
      scan(text, Math.max(block.start, from), Math.min(block.end, to), CODE, add);
      add(block.start, Level.PARAGRAPH);
      add(block.end, Level.PARAGRAPH);
      cursor = Math.min(block.end, to);
    }
    scan(text, cursor, to, PROSE, add);
    for (const [position, level] of [...found].sort((a, b) => a[0] - b[0])) {
      this.#positions.push(position);
      this.#levels.push(level);
    }
  }

  /** Indexed by level: the furthest break in (lo, hi] of at least that level. */
  furthest(lo: number, hi: number): Array<number | undefined> {
    const best: Array<number | undefined> = [];
    for (let i = this.#firstAfter(hi) - 1; i >= 0 && best[Level.PARAGRAPH] === undefined; i--) {
      const position = this.#positions[i] ?? lo;
      if (position <= lo) break;
      for (let level = this.#levels[i] ?? 0; level >= 1; level--) best[level] ??= position;
    }
    return best;
  }

  /** The earliest break of the highest level in [lo, hi), or undefined when there is none. */
  bestStart(lo: number, hi: number): number | undefined {
    let best: number | undefined;
    let bestLevel = 0;
    for (let i = this.#firstAfter(lo - 1); i < this.#positions.length; i++) {
      const position = this.#positions[i] ?? hi;
      if (position >= hi) break;
      const level = this.#levels[i] ?? 0;
      if (level > bestLevel) [best, bestLevel] = [position, level];
    }
    return best;
  }

  /** Index of the first break after `offset`. */
  #firstAfter(offset: number): number {
    let [lo, hi] = [0, this.#positions.length];
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#positions[mid] ?? Infinity) > offset) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

function scan(text: string, from: number, to: number, rules: readonly Rule[], add: (position: number, level: number) => void): void {
  if (to <= from) return;
  const slice = text.slice(from, to);
  for (const [pattern, level] of rules) {
    for (const m of slice.matchAll(pattern)) add(from + m.index + m[0].length, level);
  }
}
