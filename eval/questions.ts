/**
 * The evaluation's question set: questions phrased as users ask them, each
 * with the corpus files that answer it and key phrases of a correct answer.
 * The split into a tuning half and a held-out half is fixed in the file;
 * retrieval is tuned on the tuning half only.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

export const SPLITS = ["tuning", "heldout"] as const;
export type Split = (typeof SPLITS)[number];

const QuestionSchema = z.strictObject({
  id: z.string().regex(/^q\d{3}$/),
  split: z.enum(SPLITS),
  question: z.string().min(8),
  /** Paths relative to the corpus root; any of them answers the question. */
  files: z.array(z.string().min(1)).min(1),
  /** An answer is right when it holds any of these (compared with `normalizePhrase`). */
  keyPhrases: z.array(z.string().min(1)).min(1),
});

export type Question = z.infer<typeof QuestionSchema>;

export const QUESTIONS_FILE = new URL("../../eval/questions.json", import.meta.url);

export function loadQuestions(file: URL | string = QUESTIONS_FILE): Question[] {
  const questions = z.array(QuestionSchema).parse(JSON.parse(readFileSync(file, "utf8")));
  const ids = new Set(questions.map((q) => q.id));
  if (ids.size !== questions.length) throw new Error("question ids must be unique");
  return questions;
}
