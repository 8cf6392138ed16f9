/**
 * The FAQ file: the frequent questions a node precomputes answers for at
 * start (the pipeline does the precomputing). Either JSON — an array of
 * strings or of { question }, or { questions: [...] } — or text, one question
 * per line, with blank lines and `#` comments skipped. Questions that
 * normalise to the same key are listed once, in their first spelling.
 */
import { readFile } from "node:fs/promises";
import { invalid } from "../../runtime/index.js";
import { normaliseQuestion } from "./cache-key.js";

export async function readFaq(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (cause) {
    throw invalid(`cannot read the FAQ file ${file}: ${(cause as Error).message}`, { path: file });
  }
  return dedupe(file.toLowerCase().endsWith(".json") ? fromJson(text, file) : fromText(text));
}

function fromText(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
}

function fromJson(text: string, file: string): string[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw invalid(`the FAQ file ${file} is not valid JSON: ${(cause as Error).message}`, { path: file });
  }
  const list = Array.isArray(data) ? data : (data as { questions?: unknown } | null)?.questions;
  if (!Array.isArray(list)) throw invalid(`the FAQ file ${file} must hold an array of questions or { "questions": [...] }`, { path: file });
  return list.map((item, i) => {
    const q = typeof item === "string" ? item : (item as { question?: unknown } | null)?.question;
    if (typeof q !== "string") throw invalid(`the FAQ file ${file}: entry ${i} is not a question (a string or { "question": string })`, { path: file });
    return q.trim();
  });
}

function dedupe(questions: string[]): string[] {
  const seen = new Set<string>();
  return questions.filter((q) => {
    const key = normaliseQuestion(q);
    if (key === "" || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
