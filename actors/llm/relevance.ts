/**
 * What the extractive backend reads in a passage and how it scores it. A
 * passage is split into units: prose sentences (Intl.Segmenter), each under
 * the heading it sits in, one unit per table row or list line, and fenced
 * code blocks. Text becomes terms the way the BM25 index makes them (lower
 * case, the `stopword` package's English stop words out, Porter stems), so
 * "configuring" in a question meets "configure" in a passage.
 */
import { stemmer } from "stemmer";
import { eng } from "stopword";
import type { Passage } from "./prompt.js";

export interface Unit {
  /** Index of the passage in the prompt (0-based). */
  passage: number;
  kind: "sentence" | "code";
  /** A sentence without markup, or a code block with its fences. */
  text: string;
  terms: Set<string>;
  /** Terms of the heading path the unit sits under. */
  headingTerms: Set<string>;
  /** The sentence just before a code block (what introduces it), if any. */
  intro?: Unit;
}

const STOP_WORDS = new Set(eng);
const segmenter = new Intl.Segmenter("en", { granularity: "sentence" });

export function terms(text: string): string[] {
  return text
    .normalize("NFKC")
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== "" && !STOP_WORDS.has(t))
    .map((t) => stemmer(t));
}

/** Markup a sentence may still carry (inline code marks, emphasis, link syntax) reduced to its text. */
export function plain(text: string): string {
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
  const flush = () => {
    for (const s of segmenter.segment(prose.join(" "))) {
      const sentence = plain(s.segment);
      if (/[\p{L}\p{N}]/u.test(sentence) && !looksLikeCode(sentence)) units.push({ passage, kind: "sentence", text: sentence, terms: new Set(terms(sentence)), headingTerms: heading });
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
      const unit: Unit = { passage, kind: "code", text: code.trim(), terms: new Set(terms(code)), headingTerms: heading };
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
      flush();
    } else prose.push(line.trim());
  }
  flush();
  return units;
}
