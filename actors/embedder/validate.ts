/**
 * Input checks shared by every embedder and by the actor that receives
 * embedding requests: bad input is INVALID and never retried.
 */
import { invalid } from "../../runtime/index.js";

/** A text must be a string with something other than white space in it. */
export function validateText(text: unknown, index = 0): asserts text is string {
  if (typeof text !== "string") throw invalid(`text ${index} is not a string`, { index, type: typeof text });
  if (text.trim().length === 0) throw invalid(`text ${index} is empty`, { index });
}

/** A request: a non-empty array of at most `maxBatchTexts` valid texts. */
export function validateBatch(texts: unknown, maxBatchTexts: number): asserts texts is string[] {
  if (!Array.isArray(texts)) throw invalid("texts must be an array of strings", { type: typeof texts });
  if (texts.length === 0) throw invalid("texts is empty: nothing to embed");
  if (texts.length > maxBatchTexts) throw invalid(`${texts.length} texts exceed the limit of ${maxBatchTexts} per request`, { count: texts.length, limit: maxBatchTexts });
  texts.forEach(validateText);
}

/** An embedder option that must be a positive integer (a configuration error, not a request error). */
export function positiveInteger(key: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${key} must be a positive integer, got ${value}`);
  return value;
}
