/**
 * The extractive answer: sentences chosen to cover the question, what they
 * introduce, and for a how-to question the command or code block that does it.
 *
 * Sentences are picked greedily: each round takes the unit whose question
 * terms not yet covered weigh most (idf over the passages), with the terms
 * of its heading at half weight, a bonus when question terms stand close
 * together in it and a penalty for a long run-on unit (no prior for the
 * better-ranked passage: on the tuning half it chose worse sentences), until
 * nothing adds a new term. Coverage alone stops at one or two sentences, so
 * the best of the rest follow while they score at least half as well as the
 * first (up to maxSentences). The first pick must hold a fair share of the
 * question's weight, else the documents do not answer it. A sentence that
 * ends with a colon brings the list lines or the code block it introduces.
 * A how-to question ("how do I ...", "how can I ...") or one about a setting
 * (config, port, option, flag, command: such facts stand in examples, as
 * `http_port: 8222` does) also gets the best code block of the passages,
 * scored the same way plus the sentences before and after it, preferring a
 * shell command when the question names the CLI or a command. Each sentence
 * ends with its citation [n] before its final punctuation; a code block or
 * list stands on its own lines next to the sentence that cites it (after
 * its introduction, or before a chosen sentence that explains it), so no
 * marker ever stands inside code (and none in a link: sentences carry no
 * link syntax).
 */
import type { Passage } from "./prompt.js";
import { MAX_CODE_LINES, passageUnits, questionTerms, type Unit } from "./relevance.js";

export interface AnswerPart {
  text: string;
  /** 1-based passage number the part cites; absent for a code block or list, which stand next to their cited sentence. */
  cite?: number;
  kind: "sentence" | "code" | "list";
}

const HOW_TO = /^\s*(how (do|can|should|would|to)\b|what (is the )?(command|way) to\b|show me how\b)/i;
/** Questions about settings whose answer usually stands in a config or command example. */
const ABOUT_CONFIG = /\b(config|configure|configuration|port|option|options|setting|settings|flag|flags|command|cli)\b/i;
const SHELL_WANTED = /\b(cli|command|commands|command line|terminal|shell)\b/i;
const SHELL_FENCE = /^\s*(`{3,}|~{3,})\s*(shell|bash|sh|console|text|)\s*$/m;
/** List or table lines shown after a sentence that introduces them. */
const MAX_LIST_ITEMS = 6;
/** The first sentence must hold at least this share of the question's term weight. */
const MIN_FIRST_SHARE = 0.2;
/** Once the question's terms are covered, a further sentence must score at least this share of the first's. */
const MIN_FILL_SHARE = 0.5;
/** The how-to code block, with the sentences around it, must hold at least this share of the question's term weight. */
const MIN_CODE_SHARE = 0.3;

export function composeAnswer(question: string, passages: readonly Passage[], maxSentences: number): AnswerPart[] {
  const units = passageUnits(passages);
  const wanted = [...new Set(questionTerms(question))];
  if (wanted.length === 0 || units.length === 0) return [];
  const idf = new Map(wanted.map((t) => [t, Math.log(1 + units.length / (1 + units.filter((u) => u.terms.has(t)).length))]));
  const total = wanted.reduce((s, t) => s + idf.get(t)!, 0);
  const sequence = questionTerms(question);

  // A unit's nearness does not change from one round to the next: computed once.
  const nearness = new Map<Unit, number>();
  const gain = (u: Unit, covered: ReadonlySet<string>) => {
    let g = 0;
    for (const t of wanted) {
      if (covered.has(t)) continue;
      if (u.terms.has(t)) g += idf.get(t)!;
      else if (u.headingTerms.has(t)) g += idf.get(t)! / 2;
    }
    if (g === 0) return 0;
    let near = nearness.get(u);
    if (near === undefined) nearness.set(u, (near = closePairs(sequence, u.sequence)));
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

  // Coverage alone stops at one or two sentences; the best of the rest, each nearly as good as the first, say more of the answer.
  if (chosen.length > 0) {
    const first = gain(chosen[0]!, new Set());
    const rest = sentences.filter((u) => !seen.has(u.text)).map((u) => ({ u, g: gain(u, new Set()) }));
    for (const { u, g } of rest.sort((a, b) => b.g - a.g)) {
      if (chosen.length >= maxSentences || g < MIN_FILL_SHARE * first) break;
      if (seen.has(u.text)) continue;
      chosen.push(u);
      seen.add(u.text);
    }
  }

  const asked = HOW_TO.test(question) || ABOUT_CONFIG.test(question);
  const code = asked ? bestCode(units, question, (u) => gain(u, new Set()) + (u.intro ? gain(u.intro, new Set()) : 0) + (u.outro ? gain(u.outro, new Set()) : 0), MIN_CODE_SHARE * total) : undefined;
  return assemble(units, chosen, code, (u) => gain(u, new Set()) > 0);
}

/**
 * The chosen sentences in passage order, each followed by what it
 * introduces when it ends with a colon (the list or table lines, or the code
 * block, that complete it: "the system supports the following:" says
 * nothing alone), and the how-to code block next to the sentence that
 * introduces or explains it (else after the first sentence, with its own
 * introduction). At most one code block.
 */
function assemble(units: readonly Unit[], chosen: readonly Unit[], code: Unit | undefined, relevant: (u: Unit) => boolean): AnswerPart[] {
  const at = new Map(units.map((u, i) => [u, i]));
  const shown = new Set<Unit>();
  const parts: AnswerPart[] = [];
  let codeShown = false;
  const showCode = (u: Unit) => {
    parts.push({ text: trimCode(u.text), kind: "code" });
    codeShown = true;
  };
  for (const s of [...chosen].sort((a, b) => at.get(a)! - at.get(b)!)) {
    if (shown.has(s)) continue;
    if (code !== undefined && !codeShown && code.outro === s && code.intro === undefined) showCode(code);
    const sentence: AnswerPart = { text: s.text, cite: s.passage + 1, kind: "sentence" };
    parts.push(sentence);
    shown.add(s);
    const follow = s.text.endsWith(":") ? following(units, at.get(s)!) : [];
    if (follow[0]?.kind === "code") {
      // The one code block shown is the how-to one when there is one, and never one that shares no term with the question.
      if (!codeShown && (code ?? follow[0]) === follow[0] && relevant(follow[0])) showCode(follow[0]);
      else if (code !== follow[0]) sentence.text = `${s.text.slice(0, -1)}.`;
    } else if (follow.length > 0) {
      parts.push({ text: follow.map((u) => `- ${u.text}`).join("\n"), kind: "list" });
      for (const u of follow) shown.add(u);
    } else if (s.text.endsWith(":")) {
      // What it introduced is not in the passage (the chunk ends there): a colon would promise what never comes.
      sentence.text = `${s.text.slice(0, -1)}.`;
    }
    if (code !== undefined && !codeShown && code.intro === s) showCode(code);
  }
  if (code !== undefined && !codeShown) {
    const intro: AnswerPart = { text: code.intro?.text ?? "For example", cite: code.passage + 1, kind: "sentence" };
    // After the first sentence and the list it introduces, never between the two.
    const second = parts.findIndex((p, i) => i > 0 && p.kind === "sentence");
    parts.splice(second === -1 ? parts.length : second, 0, intro, { text: trimCode(code.text), kind: "code" });
  }
  return parts;
}

/** The code block, or up to MAX_LIST_ITEMS list lines, right after unit `i` in its passage. */
function following(units: readonly Unit[], i: number): Unit[] {
  const next = units[i + 1];
  if (next === undefined || next.passage !== units[i]!.passage) return [];
  if (next.kind === "code") return [next];
  const items: Unit[] = [];
  for (let j = i + 1; j < units.length && items.length < MAX_LIST_ITEMS && units[j]!.passage === next.passage && units[j]!.item === true; j++) items.push(units[j]!);
  return items;
}

function bestCode(units: readonly Unit[], question: string, score: (u: Unit) => number, least: number): Unit | undefined {
  const shell = SHELL_WANTED.test(question);
  let best: Unit | undefined;
  let bestScore = least;
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
    for (let j = 0; j < seq.length; j++) {
      if (seq[j] !== a) continue;
      if (seq[j + 1] === b || seq[j + 2] === b || seq[j + 3] === b) {
        found++;
        break;
      }
    }
  }
  return found / (question.length - 1);
}
