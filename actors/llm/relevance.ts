/**
 * What the extractive backend reads in a passage and how it scores it. A
 * passage is split into units: prose sentences, each under
 * the heading it sits in, one unit per table row or list line, and fenced
 * code blocks. Text becomes terms the way the BM25 index makes them (lower
 * case, the `stopword` package's English stop words and the question words
 * it lacks out, Porter stems, identifiers in camel case also as their
 * words), so "configuring" in a question meets "configure" in a passage.
 */
import { stemmer } from "stemmer";
import { STOP_WORDS } from "../index-shard/index.js";
import type { Passage } from "./prompt.js";

export interface Unit {
  /** Index of the passage in the prompt (0-based). */
  passage: number;
  kind: "sentence" | "code";
  /** A sentence without markup, or a code block with its fences. */
  text: string;
  /** The text's terms in order, and as a set. */
  sequence: string[];
  terms: Set<string>;
  /** Terms of the heading path the unit sits under. */
  headingTerms: Set<string>;
  /** A list item or table row (a line of its own in the passage). */
  item?: true;
  /** The sentence just before a code block (what introduces it), if any. */
  intro?: Unit;
  /** The sentence just after a code block (what explains it: "This creates ..."), if any. */
  outro?: Unit;
}

/** Lines of a code block an answer shows (its fences aside); the rest is cut. */
export const MAX_CODE_LINES = 14;
/** A character that may start the markup `plain` removes. */
const MARKUP = /[[`*_{]/;
/**
 * A sentence ends at . ! or ? before blank space and a capital, digit, quote
 * or bracket, except after an abbreviation ("e.g. Java" goes on). A regular expression, not Intl.Segmenter: an answer reads every
 * sentence of ten passages per question, and the segmenter costs as much
 * as all the rest of composing it.
 */
const SENTENCE_END = /(?<=[.!?])(?<!\b(?:[Ee]\.[Gg]|[Ii]\.[Ee]|[Vv]s|[Cc]f)\.)\s+(?=[\p{Lu}\p{N}"'(`])/u;
/**
 * Each word's term (its stem, or null for a stop word), remembered: answers
 * read the same corpus words again and again. A plain map emptied when full
 * costs a fraction of an LRU's bookkeeping, which showed in profiles.
 */
const memo = new Map<string, Word>();
const MEMO_MAX = 50_000;
/** Where an identifier's words meet: "discardOld", "DiscardOld", "JSONParser" (a lower-case letter or digit before a capital, or a capital before a capitalised word). */
const WORD_JOINT = /(?<=[\p{Ll}\p{N}])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}\p{Ll})/u;

/** A word's own term (null for a stop word) and, for an identifier in camel case, the terms of its words after it. */
interface Word {
  whole: string | null;
  all: readonly string[];
}

/**
 * The terms of a passage's text in order. An identifier written in camel
 * case ("DiscardOld", "MaxAckPending") gives its own term and then its
 * words' ("discard", "old"), so a question in words meets the option's name.
 */
export function terms(text: string): string[] {
  return termsWith(text, (w, out) => {
    for (const t of w.all) out.push(t);
  });
}

/**
 * The terms of a question: an identifier stays one term, its words are not
 * asked for. "JetStream" in a question is not a question about jets, nor a
 * second time about streams ("What is JavaScript?" is none about Java);
 * the passages' split still lets "max ack pending" meet MaxAckPending.
 */
export function questionTerms(text: string): string[] {
  return termsWith(text, (w, out) => {
    if (w.whole !== null) out.push(w.whole);
  });
}

function termsWith(text: string, add: (w: Word, out: string[]) => void): string[] {
  const out: string[] = [];
  // NFKC only where it can change something: most passages are ASCII.
  const folded = /[^\x00-\x7f]/.test(text) ? text.normalize("NFKC") : text;
  for (const word of folded.split(/[^\p{L}\p{N}]+/u)) {
    if (word === "") continue;
    let made = memo.get(word);
    if (made === undefined) {
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(word, (made = termsOfWord(word)));
    }
    add(made, out);
  }
  return out;
}

function termsOfWord(word: string): Word {
  const lower = word.toLowerCase();
  const whole = termOf(lower);
  const own = whole === null ? [] : [whole];
  // Most words have no capital past their first letter, so no joint: the split is skipped.
  const parts = lower.slice(1) === word.slice(1) ? [word] : word.split(WORD_JOINT);
  if (parts.length === 1) return { whole, all: own };
  for (const part of parts) {
    const t = termOf(part.toLowerCase());
    if (t !== null && !own.includes(t)) own.push(t);
  }
  return { whole, all: own };
}

/** A lower-case word's stem, or null for a stop word (or one whose stem is: "its" is "it"). */
function termOf(word: string): string | null {
  if (STOP_WORDS.has(word)) return null;
  const stem = stemmer(word);
  return STOP_WORDS.has(stem) ? null : stem;
}

/**
 * A unit's terms, remembered by its text: the passages of one question are
 * the chunks of another (a third of what answers read had been read
 * before, on the evaluation's questions asked in a row), and tokenizing
 * them was most of composing an answer. Units only read what they share.
 */
const units = new Map<string, { sequence: string[]; terms: Set<string> }>();
const UNITS_MAX = 20_000;

function termsOf(text: string): { sequence: string[]; terms: Set<string> } {
  let made = units.get(text);
  if (made === undefined) {
    if (units.size >= UNITS_MAX) units.clear();
    const sequence = terms(text);
    units.set(text, (made = { sequence, terms: new Set(sequence) }));
  }
  return made;
}

/** Markup a sentence may still carry (inline code marks, emphasis, link syntax) reduced to its text. */
export function plain(text: string): string {
  // Most paragraphs carry none: one scan instead of four replacements.
  if (!MARKUP.test(text)) return text.replace(/\s+/g, " ").trim();
  return text
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/`+/g, "")
    .replace(/(\*\*|__)(\S[^*_]*?\S|\S)\1/g, "$2")
    .replace(/\{%.*?%\}/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** Code outside a fence (an indented block, a GitBook tab's body): brackets, semicolons and operators where prose has words. */
export function looksLikeCode(text: string): boolean {
  const symbols = text.match(/[{}();=<>[\]|&$]/g)?.length ?? 0;
  return symbols / text.length > 0.04 || /^\s*(\/\/|#!|\$ )/.test(text);
}

/** The units of every passage, in passage order. */
export function passageUnits(passages: readonly Passage[]): Unit[] {
  return passages.flatMap((p, i) => unitsOf(p.text, i));
}

function unitsOf(text: string, passage: number): Unit[] {
  const units: Unit[] = [];
  let heading = new Set<string>();
  let prose: string[] = [];
  const flush = (item = false) => {
    // Markup goes before the split: one pass over the paragraph, not one per sentence.
    for (const segment of plain(prose.join(" ")).split(SENTENCE_END)) {
      const sentence = segment.trim();
      if (!/[\p{L}\p{N}]/u.test(sentence) || looksLikeCode(sentence)) continue;
      const unit: Unit = { passage, kind: "sentence", text: sentence, ...termsOf(sentence), headingTerms: heading };
      if (item) unit.item = true;
      const previous = units.at(-1);
      if (previous?.kind === "code" && previous.passage === passage && previous.outro === undefined) previous.outro = unit;
      units.push(unit);
    }
    prose = [];
  };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*(`{3,}|~{3,})/.exec(line);
    if (fence !== null) {
      flush();
      const start = i;
      while (++i < lines.length && !lines[i]!.trim().startsWith(fence[1]!));
      const code = lines.slice(start, Math.min(i + 1, lines.length)).join("\n");
      const previous = units.at(-1);
      // Scored on the lines an answer shows of it (the rest is cut): a long block's tail was a large share of the words tokenized.
      const shown = lines.slice(start, Math.min(i + 1, lines.length, start + MAX_CODE_LINES + 1)).join("\n");
      const unit: Unit = { passage, kind: "code", text: code.trim(), ...termsOf(shown), headingTerms: heading };
      if (previous?.kind === "sentence" && previous.passage === passage) unit.intro = previous;
      units.push(unit);
      continue;
    }
    const h = /^\s*#{1,6}\s+(.*)$/.exec(line);
    if (h !== null) {
      flush();
      heading = new Set(terms(h[1]!));
    } else if (line.trim() === "") flush();
    else if (/^\s*([-*+]|\d+\.)\s|^[^\s:][^:]{0,60}: /.test(line)) {
      // A list item or a table row ("cell: cell") is a unit of its own.
      flush();
      prose = [line.replace(/^\s*([-*+]|\d+\.)\s+/, "")];
      flush(true);
    } else prose.push(line.trim());
  }
  flush();
  return units;
}
