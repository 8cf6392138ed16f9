/**
 * The "extractive" backend: no model and no download. It answers from the
 * sentences of the retrieved passages that best match the question, each
 * followed by its citation [n] (n is the passage's position in the prompt),
 * and streams the answer a word at a time. The passages arrive in the RAG
 * layout of prompt.ts, so the llm pool hands every backend the same request.
 * Tokens are estimated from words (4 tokens per 3 words).
 */
import type { BackendHealth, FinishReason, GenerateEvent, GenerateRequest, LlmBackend } from "./backend.js";
import { parseRagPrompt } from "./prompt.js";
import { rankSentences } from "./relevance.js";
import { generateOneToken, validateRequest } from "./request.js";
import { SequenceSlots } from "./slots.js";
import { StopScanner } from "./stop.js";

export const NOT_FOUND_ANSWER = "I could not find this in the documents.";

export interface ExtractiveOptions {
  /** Default "extractive". */
  id?: string;
  /** Most sentences in an answer; default 3. */
  maxSentences?: number;
  /** Sequences it runs at once; more is OVERLOADED. Default: no limit. */
  maxConcurrent?: number;
}

/** The token estimate behind countTokens and the maxNewTokens budget. */
export function estimateTokens(text: string): number {
  return Math.ceil((words(text).length * 4) / 3);
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
    this.maxSentences = opts.maxSentences ?? 3;
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
    for (const [i, word] of answer.words.entries()) {
      if (signal.aborted) {
        yield done("cancelled");
        return;
      }
      const piece = stops.push(i === 0 ? word : ` ${word}`);
      if (piece.text !== "") {
        shown.push(piece.text);
        yield { type: "token", text: piece.text };
      }
      if (piece.stopped) {
        yield done("stop");
        return;
      }
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

  /** The answer's words within the budget, and whether the budget cut it short. */
  private compose(req: GenerateRequest): { words: string[]; cut: boolean } {
    const budget = Math.floor((req.maxNewTokens * 3) / 4);
    const { question, passages } = parseRagPrompt(req.messages);
    const chosen = rankSentences(question, passages).slice(0, this.maxSentences);
    if (chosen.length === 0) {
      const all = words(NOT_FOUND_ANSWER);
      return { words: all.slice(0, budget), cut: all.length > budget };
    }
    const out: string[] = [];
    for (const s of chosen) {
      const unit = cited(words(s.text), s.passage + 1);
      if (out.length + unit.length <= budget) {
        out.push(...unit);
        continue;
      }
      if (out.length === 0 && budget >= 2) out.push(...cited(words(s.text).slice(0, budget - 1), s.passage + 1));
      return { words: out, cut: true };
    }
    return { words: out, cut: false };
  }
}

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "");

/** The sentence's words with "[n]" before its final punctuation: "... lays eggs [2]." */
function cited(sentence: string[], n: number): string[] {
  const last = sentence.at(-1) ?? "";
  const [, body = last, punct = ""] = /^(.*?)([.!?…:;,]*)$/su.exec(last) ?? [];
  return body === "" ? [...sentence.slice(0, -1), `[${n}]${punct}`] : [...sentence.slice(0, -1), body, `[${n}]${punct}`];
}
