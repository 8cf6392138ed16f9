import assert from "node:assert/strict";
import { test } from "node:test";
import { validateBatch } from "../../actors/embedder/index.js";
import { isColmenaError } from "../../runtime/index.js";

const isInvalid = (err: unknown) => isColmenaError(err, "INVALID");

test("embedder validation - a request of valid texts within the limit passes", () => {
  assert.doesNotThrow(() => validateBatch(["a", "b"], 2));
});

test("embedder validation - a batch over maxBatchTexts is INVALID with count and limit", () => {
  assert.throws(() => validateBatch(["a", "b", "c"], 2), (err) => isInvalid(err) && err.details?.count === 3 && err.details?.limit === 2);
});

test("embedder validation - no texts, a non-array or an empty text is INVALID", () => {
  assert.throws(() => validateBatch([], 8), isInvalid);
  assert.throws(() => validateBatch("text", 8), isInvalid);
  assert.throws(() => validateBatch(["ok", " "], 8), (err) => isInvalid(err) && err.details?.index === 1);
});
