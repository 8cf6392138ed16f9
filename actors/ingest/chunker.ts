/**
 * Splits a document into pieces of at most `maxChars` characters for
 * embedding. Markdown sections (a heading and its body) are split apart first
 * and never share a piece; a section that is too long is cut at the best
 * place within reach: a paragraph, else a sentence or line end, else a word,
 * else anywhere. Consecutive pieces of one section overlap by up to
 * `overlapChars`, starting on a break. A piece cut inside a fenced code
 * block gets the block's fences back (fenced), so each piece is a slice of
 * the document but for those lines. The result depends only on the input.
 */
import { invalid } from "../../runtime/index.js";
import { BreakPoints, Level } from "./break-points.js";
import { cleanMarkdown } from "./markdown-clean.js";
import { scanMarkdown } from "./markdown-sections.js";
import type { CodeRange, Section } from "./markdown-sections.js";

export interface ChunkOptions {
  maxChars: number;
  /** Characters a piece may repeat from the end of the previous piece of its section; less than maxChars. */
  overlapChars: number;
  /** Read the text as markdown: markup reduced to text (markdown-clean.ts), split by heading sections, code blocks kept whole where they fit. */
  markdown?: boolean;
}

export interface TextPiece {
  text: string;
  /** Position in the document, from 0, without gaps. */
  ordinal: number;
  /** Heading path of the piece's section ("Guide > Install"); markdown only. */
  heading?: string;
  /** The document's title (front matter, else its first level-1 heading); markdown only. */
  title?: string;
}

export function chunk(text: string, opts: ChunkOptions): TextPiece[] {
  checkOptions(text, opts);
  const clean = opts.markdown === true ? cleanMarkdown(text) : { text: text.replace(/\r\n?/g, "\n") };
  const doc = clean.text;
  const { sections, code } = opts.markdown === true ? scanMarkdown(doc) : { sections: [{ start: 0, end: doc.length, headerEnd: 0 }], code: [] };
  const pieces: TextPiece[] = [];
  for (const section of sections) {
    for (const piece of splitSection(doc, section, code, opts)) {
      const p: TextPiece = { text: piece, ordinal: pieces.length };
      if (section.heading !== undefined) p.heading = section.heading;
      if (clean.title !== undefined) p.title = clean.title;
      pieces.push(p);
    }
  }
  return pieces;
}

function splitSection(doc: string, section: Section, code: readonly CodeRange[], opts: ChunkOptions): string[] {
  const breaks = new BreakPoints(doc, section.start, section.end, section.headerEnd, code);
  const blocks = code.filter((b) => b.start < section.end && b.end > section.start);
  // Room for the fence lines a piece cut inside a block gets back (fenced), where pieces are long enough to hold them.
  const fenceRoom = Math.max(0, ...blocks.map((b) => b.opening.length + b.marker.length + 2));
  const fences = fenceRoom > 0 && fenceRoom <= opts.maxChars / 2;
  const maxChars = fences ? opts.maxChars - fenceRoom : opts.maxChars;
  const pieces: string[] = [];
  let start = section.start;
  let previousEnd = section.start;
  for (;;) {
    const end = pieceEnd(doc, breaks, start, previousEnd, section.end, maxChars);
    const text = tidy(doc.slice(start, end));
    const piece = fences ? fenced(text, start, end, blocks) : text;
    if (piece.length > 0) pieces.push(piece);
    if (end >= section.end) return pieces;
    start = breaks.bestStart(Math.max(end - opts.overlapChars, start + 1), end) ?? end;
    previousEnd = end;
  }
}

/**
 * Where the piece starting at `start` ends. The best level wins if its
 * furthest break fills at least half the piece; otherwise a word break that
 * does, then the furthest line or better, then any break, then a hard cut.
 * Breaks at or before `previousEnd` do not count, so every piece adds text.
 */
function pieceEnd(doc: string, breaks: BreakPoints, start: number, previousEnd: number, end: number, maxChars: number): number {
  const limit = start + maxChars;
  if (end <= limit) return end;
  const best = breaks.furthest(previousEnd, limit);
  const half = start + maxChars / 2;
  for (const level of [Level.PARAGRAPH, Level.SENTENCE, Level.LINE, Level.WORD]) {
    const position = best[level];
    if (position !== undefined && position >= half) return position;
  }
  return best[Level.LINE] ?? best[Level.CODE_WORD] ?? hardCut(doc, previousEnd, limit);
}

/** `limit`, moved back one if it would split a surrogate pair. */
function hardCut(doc: string, floor: number, limit: number): number {
  const code = doc.charCodeAt(limit - 1);
  return limit - 1 > floor && code >= 0xd800 && code <= 0xdbff ? limit - 1 : limit;
}

/**
 * A piece that begins or ends inside a code block gets the block's opening
 * fence line before it, or its closing marker after it: every piece reads as
 * markdown on its own. Without them a piece that started in the overlap of a
 * block showed its code as prose and took the block's closing fence for an
 * opening one, so what followed read as code.
 */
function fenced(piece: string, start: number, end: number, code: readonly CodeRange[]): string {
  if (piece === "") return piece;
  const opened = code.find((b) => b.bodyStart <= start && start < b.bodyEnd);
  const closed = code.find((b) => b.bodyStart < end && end <= b.bodyEnd);
  return `${opened !== undefined ? `${opened.opening}\n` : ""}${piece}${closed !== undefined ? `\n${closed.marker}` : ""}`;
}

/** Drops blank lines before and whitespace after, keeping the first line's indentation. */
function tidy(piece: string): string {
  return piece.replace(/^(?:[ \t]*\n)+/, "").trimEnd();
}

function checkOptions(text: unknown, opts: ChunkOptions): void {
  if (typeof text !== "string") throw invalid("text must be a string");
  const { maxChars, overlapChars } = opts;
  if (!Number.isSafeInteger(maxChars) || maxChars < 1) throw invalid("maxChars must be a positive integer", { maxChars });
  if (!Number.isSafeInteger(overlapChars) || overlapChars < 0 || overlapChars >= maxChars) {
    throw invalid("overlapChars must be an integer from 0 to maxChars - 1", { overlapChars, maxChars });
  }
}
