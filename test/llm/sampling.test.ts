import assert from "node:assert/strict";
import { test } from "node:test";
import { argmax, createSampler, mulberry32 } from "../../actors/llm/sampling.js";

const logits = Float32Array.from([0.1, 2.5, -1, 2.4, 0, 1.9, -3, 0.5]);

test("sampling - temperature 0 or absent is greedy", () => {
  assert.equal(argmax(Float32Array.from([1, 3, 3, 2])), 1, "the lowest index wins a tie");
  assert.equal(createSampler({})(logits), 1);
  assert.equal(createSampler({ temperature: 0, seed: 5 })(logits), 1);
});

test("sampling - top-k 1 and a tiny top-p always pick the most likely token", () => {
  const topK = createSampler({ temperature: 2, topK: 1, seed: 1 });
  const topP = createSampler({ temperature: 2, topP: 1e-6, seed: 1 });
  for (let i = 0; i < 200; i++) {
    assert.equal(topK(logits), 1);
    assert.equal(topP(logits), 1);
  }
});

test("sampling - top-k keeps only the k most likely tokens", () => {
  const sample = createSampler({ temperature: 5, topK: 3, seed: 3 });
  const seen = new Set(Array.from({ length: 500 }, () => sample(logits)));
  assert.deepEqual([...seen].sort(), [1, 3, 5]);
});

test("sampling - top-p keeps the smallest set holding that mass", () => {
  // Probabilities 0.5, 0.3, 0.15, 0.05: top-p 0.75 keeps the first two, 0.85 the first three.
  const probs = Float32Array.from([0.5, 0.3, 0.15, 0.05].map(Math.log));
  const kept = (topP: number) => {
    const sample = createSampler({ temperature: 1, topP, seed: 11 });
    return [...new Set(Array.from({ length: 1000 }, () => sample(probs)))].sort();
  };
  assert.deepEqual(kept(0.75), [0, 1]);
  assert.deepEqual(kept(0.85), [0, 1, 2]);
  assert.deepEqual(kept(1), [0, 1, 2, 3]);
});

test("sampling - draws follow the softmax of logits over temperature", () => {
  const sample = createSampler({ temperature: 1, seed: 42 });
  const twoWay = Float32Array.from([0, Math.log(3)]);
  let ones = 0;
  for (let i = 0; i < 4000; i++) ones += sample(twoWay);
  assert.ok(Math.abs(ones / 4000 - 0.75) < 0.03, `expected about 75% ones, got ${ones / 40}%`);
});

test("sampling - the same seed gives the same draws", () => {
  const draws = (seed: number) => {
    const sample = createSampler({ temperature: 1.5, topK: 6, topP: 0.9, seed });
    return Array.from({ length: 64 }, () => sample(logits));
  };
  assert.deepEqual(draws(123), draws(123));
  assert.notDeepEqual(draws(123), draws(124));
  const a = mulberry32(2 ** 40 + 1);
  const b = mulberry32(1);
  assert.notEqual(a(), b(), "seeds beyond 32 bits are not truncated");
});
