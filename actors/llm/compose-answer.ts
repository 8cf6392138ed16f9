/**
 * The extractive answer: sentences chosen to cover the question, and for a
 * how-to question the command or code block that does it.
 *
 * Sentences are picked greedily: each round takes the unit whose question
 * terms not yet covered weigh most (idf over the passages), with the terms
 * of its heading at half weight, a bonus when question terms stand close
 * together in it and a penalty for a long run-on unit (no prior for the
 * better-ranked passage: on the tuning half it chose worse sentences); it stops when nothing adds a new term. The first pick
 * must hold a fair share of the question's weight, else the documents do not
 * answer it. A how-to question ("how do I ...", "how can I ...") or one about
 * a setting (config, port, option, flag, command: such facts stand in
 * examples, as `http_port: 8222` does) also gets
 * the best code block of the passages, scored the same way plus its
 * introducing sentence, preferring a shell command when the question names
 * the CLI or a command. Each sentence ends with its citation [n] before its
 * final punctuation; a code block follows the sentence that cites it, so no
 * marker ever stands inside code (and none in a link: sentences carry no
 * link syntax).
 */
import type { Passage } from "./prompt.js";
import { passageUnits, terms, type Unit } from "./relevance.js";

export interface AnswerPart {
  text: string;
  /** 1-based passage number the part cites; absent for a code block, which follows its cited sentence. */
  cite?: number;
  kind: "sentence" | "code";
}

const HOW_TO = /^\s*(how (do|can|should|would|to)\b|what (is the )?(command|way) to\b|show me how\b)/i;
/** Questions about settings whose answer usually stands in a config or command example. */
const ABOUT_CONFIG = /\b(config|configure|configuration|port|option|options|setting|settings|flag|flags|command|cli)\b/i;
const SHELL_WANTED = /\b(cli|command|commands|command line|terminal|shell)\b/i;
const SHELL_FENCE = /^\s*(`{3,}|~{3,})\s*(shell|bash|sh|console|text|)\s*$/m;
const MAX_CODE_LINES = 14;
/** The first sentence must hold at least this share of the question's term weight. */
const MIN_FIRST_SHARE = 0.2;

export function composeAnswer(question: string, passages: readonly Passage[], maxSentences: number): AnswerPart[] {
  const units = passageUnits(passages);
  const wanted = [...new Set(terms(question))];
  if (wanted.length === 0 || units.length === 0) return [];
  const idf = new Map(wanted.map((t) => [t, Math.log(1 + units.length / (1 + units.filter((u) => u.terms.has(t)).length))]));
  const total = wanted.reduce((s, t) => s + idf.get(t)!, 0);
  const sequence = terms(question);

  const gain = (u: Unit, covered: ReadonlySet<string>) => {
    let g = 0;
    for (const t of wanted) {
      if (covered.has(t)) continue;
      if (u.terms.has(t)) g += idf.get(t)!;
      else if (u.headingTerms.has(t)) g += idf.get(t)! / 2;
    }
    if (g === 0) return 0;
    const near = closePairs(sequence, u.sequence);
    const long = u.text.length > 300 ? 300 / u.text.length : 1;
    return g * (1 + 0.3 * near) * long;
  };

  const sentences = units.filter((u) => u.kind === "sentence");
  const chosen: Unit[] = [];
  const covered = new Set<string>();
  const seen = new Set<string>();
  while (chosen.length < maxSentences) {
    let best: Unit | undefined;
    let bestGain = 0;
    for (const u of sentences) {
      if (seen.has(u.text)) continue;
      const g = gain(u, covered);
      if (g > bestGain) [best, bestGain] = [u, g];
    }
    if (best === undefined || (chosen.length === 0 && bestGain < MIN_FIRST_SHARE * total)) break;
    chosen.push(best);
    seen.add(best.text);
    for (const t of wanted) if (best.terms.has(t) || best.headingTerms.has(t)) covered.add(t);
  }

  const code = HOW_TO.test(question) || ABOUT_CONFIG.test(question) ? bestCode(units, question, (u) => gain(u, new Set()) + (u.intro ? gain(u.intro, new Set()) : 0)) : undefined;
  const parts: AnswerPart[] = [];
  for (const s of chosen.sort((a, b) => a.passage - b.passage || units.indexOf(a) - units.indexOf(b))) parts.push({ text: s.text, cite: s.passage + 1, kind: "sentence" });
  if (code !== undefined) {
    const at = code.intro !== undefined ? parts.findIndex((p) => p.text === code.intro!.text) : -1;
    const block: AnswerPart = { text: trimCode(code.text), kind: "code" };
    if (at >= 0) parts.splice(at + 1, 0, block);
    else parts.splice(Math.min(1, parts.length), 0, { text: code.intro?.text ?? "For example", cite: code.passage + 1, kind: "sentence" }, block);
  }
  return parts;
}

function bestCode(units: readonly Unit[], question: string, score: (u: Unit) => number): Unit | undefined {
  const shell = SHELL_WANTED.test(question);
  let best: Unit | undefined;
  let bestScore = 0;
  for (const u of units) {
    if (u.kind !== "code") continue;
    const isShell = SHELL_FENCE.test(u.text.split("\n")[0]!) || /^\s*(nats|nats-server|nsc|nk|docker|curl|helm)\s/m.test(u.text);
    const s = score(u) * (shell ? (isShell ? 1.5 : 0.5) : 1);
    if (s > bestScore) [best, bestScore] = [u, s];
  }
  return best;
}

/** At most MAX_CODE_LINES lines of a block, its fences kept so it still reads as code. */
function trimCode(block: string): string {
  const lines = block.split("\n");
  if (lines.length <= MAX_CODE_LINES + 2) return block;
  const fence = /^\s*(`{3,}|~{3,})/.exec(lines[0]!)?.[1] ?? "```";
  return [...lines.slice(0, MAX_CODE_LINES + 1), fence].join("\n");
}

/** 0..1: the share of the question's consecutive term pairs that stand within three terms in the unit's sequence. */
function closePairs(question: readonly string[], seq: readonly string[]): number {
  if (question.length < 2) return 0;
  let found = 0;
  for (let i = 1; i < question.length; i++) {
    const [a, b] = [question[i - 1]!, question[i]!];
    if (seq.some((t, j) => t === a && seq.slice(j + 1, j + 4).includes(b))) found++;
  }
  return found / (question.length - 1);
}
