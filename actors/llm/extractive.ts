/**
 * The "extractive" backend: no model and no download. It answers from the
 * sentences of the retrieved passages that cover the question, and for a
 * how-to question with the command or code block that does it
 * (compose-answer.ts), each sentence followed by its citation [n] (n is the
 * passage's position in the prompt), and streams the answer a sentence, list
 * or code block at a time (with the blank space before it, so code keeps its
 * lines). The passages arrive in the RAG
 * layout of prompt.ts, so the llm pool hands every backend the same request.
 * Tokens are estimated from words (4 tokens per 3 words).
 */
import type { BackendHealth, FinishReason, GenerateEvent, GenerateRequest, LlmBackend } from "./backend.js";
import { parseRagPrompt } from "./prompt.js";
import { composeAnswer } from "./compose-answer.js";
import { generateOneToken, validateRequest } from "./request.js";
import { SequenceSlots } from "./slots.js";
import { StopScanner } from "./stop.js";

export const NOT_FOUND_ANSWER = "I could not find this in the documents.";

export interface ExtractiveOptions {
  /** Default "extractive". */
  id?: string;
  /** Most sentences in an answer; default 4. */
  maxSentences?: number;
  /** Sequences it runs at once; more is OVERLOADED. Default: no limit. */
  maxConcurrent?: number;
}

/** The token estimate behind countTokens and the maxNewTokens budget. */
export function estimateTokens(text: string): number {
  // Counted in one pass over the characters, not split or matched: the prompt holds every passage and is counted twice per
  // question (its budget, then its usage), and a match object per word was garbage at once.
  let n = 0;
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i));
    if (!space && !inWord) n++;
    inWord = !space;
  }
  return Math.ceil((n * 4) / 3);
}

/** What `\s` matches in a regular expression (ECMAScript WhiteSpace and LineTerminator), by UTF-16 code unit. */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return c === 160 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

export class ExtractiveBackend implements LlmBackend {
  readonly id: string;
  readonly device = "cpu";
  readonly fellBackToCpu = false;
  readonly slots: SequenceSlots;
  readonly circuit = undefined;
  private readonly maxSentences: number;

  constructor(opts: ExtractiveOptions = {}) {
    this.id = opts.id ?? "extractive";
    this.maxSentences = opts.maxSentences ?? 4;
    this.slots = new SequenceSlots(opts.maxConcurrent ?? Number.POSITIVE_INFINITY, `llm backend ${this.id}`);
  }

  warmUp(): Promise<void> {
    return generateOneToken(this);
  }

  /** Always healthy: it needs nothing but the request. */
  async health(): Promise<BackendHealth> {
    return { models: [this.id], servesModel: true };
  }

  async *generate(req: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent, void> {
    validateRequest(req);
    this.slots.take();
    try {
      yield* this.answer(req, signal);
    } finally {
      this.slots.release();
    }
  }

  private async *answer(req: GenerateRequest, signal: AbortSignal): AsyncGenerator<GenerateEvent, void> {
    const promptTokens = estimateTokens(req.messages.map((m) => m.content).join("\n"));
    const answer = this.compose(req);
    const stops = new StopScanner(req.stop ?? []);
    const shown: string[] = [];
    const done = (reason: FinishReason): GenerateEvent => ({
      type: "done",
      reason,
      promptTokens,
      completionTokens: estimateTokens(shown.join("")),
    });
    for (const text of answer.pieces) {
      if (signal.aborted) {
        yield done("cancelled");
        return;
      }
      const piece = stops.push(text);
      if (piece.text !== "") {
        shown.push(piece.text);
        yield { type: "token", text: piece.text };
      }
      if (piece.stopped) {
        yield done("stop");
        return;
      }
    }
    // Left after the last piece: the caller is gone either way.
    if (signal.aborted) {
      yield done("cancelled");
      return;
    }
    const tail = stops.flush();
    if (tail !== "") {
      shown.push(tail);
      yield { type: "token", text: tail };
    }
    yield done(answer.cut ? "length" : "stop");
  }

  countTokens(text: string): number {
    return estimateTokens(text);
  }

  async close(): Promise<void> {}

  /**
   * The answer within the budget, one piece per sentence, code block or list
   * (each with the blank space before it), and whether the budget cut it
   * short. A piece, not a word, is a stream chunk: every chunk is a message
   * from the llm pool to the pipeline, and a word each made the messages,
   * not the composing, the cost of an answer.
   */
  private compose(req: GenerateRequest): { pieces: string[]; cut: boolean } {
    const budget = Math.floor((req.maxNewTokens * 3) / 4);
    const { question, passages } = parseRagPrompt(req.messages);
    const parts = composeAnswer(question, passages, this.maxSentences);
    if (parts.length === 0) {
      const all = spaced(NOT_FOUND_ANSWER);
      return { pieces: joined([all.slice(0, budget)]), cut: all.length > budget };
    }
    const out: string[][] = [];
    let used = 0;
    for (const part of parts) {
      const unit = part.kind !== "sentence" ? spaced(`\n\n${part.text}\n\n`) : spaced(part.cite === undefined ? part.text : cited(part.text, part.cite));
      const last = out.at(-1)?.at(-1);
      if (last !== undefined && part.kind === "sentence" && !/\n$/.test(last)) unit[0] = ` ${unit[0]!.trimStart()}`;
      if (used + unit.length <= budget) {
        out.push(unit);
        used += unit.length;
        continue;
      }
      if (used === 0 && budget >= 2 && part.kind === "sentence") out.push(spaced(cited(words(part.text).slice(0, budget - 1).join(" "), part.cite ?? 1)));
      return { pieces: joined(out), cut: true };
    }
    return { pieces: joined(out), cut: false };
  }
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "");

/**
 * The text's words, each with the blank space before it (none before the
 * first), trailing space kept on the last one only when it holds a newline.
 */
function spaced(text: string): string[] {
  const pieces = text.match(/\s*\S+/g) ?? [];
  const tail = /\s*$/.exec(text)?.[0] ?? "";
  if (pieces.length > 0 && tail.includes("\n")) pieces[pieces.length - 1] += tail;
  return pieces;
}

/** Each part's words as one piece; no blank space before the answer's first word or after its last. */
function joined(parts: string[][]): string[] {
  const pieces = parts.map((words) => words.join("")).filter((p) => p !== "");
  if (pieces.length > 0) pieces[0] = pieces[0]!.trimStart();
  if (pieces.length > 0) pieces[pieces.length - 1] = pieces.at(-1)!.trimEnd();
  return pieces.filter((p) => p !== "");
}

/** The sentence with "[n]" before its final punctuation: "... lays eggs [2]." */
function cited(sentence: string, n: number): string {
  const [, body = sentence, punct = ""] = /^(.*?)([.!?…:;,]*)$/su.exec(sentence.trim()) ?? [];
  return body === "" ? `[${n}]${punct}` : `${body} [${n}]${punct}`;
}
