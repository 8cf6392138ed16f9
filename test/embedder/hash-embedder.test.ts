import assert from "node:assert/strict";
import { test } from "node:test";
import { HashEmbedder } from "../../actors/embedder/index.js";
import { isColmenaError } from "../../runtime/index.js";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const norm = (v: Float32Array) => Math.sqrt(dot(v, v));
const embedOne = async (e: HashEmbedder, text: string) => (await e.embed([text]))[0]!;

test("hash embedder - deterministic across calls and instances", async () => {
  const text = "Retrieval-augmented generation over NATS";
  const a = await embedOne(new HashEmbedder(), text);
  const b = await embedOne(new HashEmbedder(), text);
  assert.deepEqual(a.vector, b.vector);
  assert.deepEqual((await new HashEmbedder().embed([text, text]))[1]!.vector, a.vector);
});

test("hash embedder - vectors have unit length", async () => {
  const results = await new HashEmbedder().embed(["one", "two words", "a longer sentence with repeated repeated words", "!!!"]);
  for (const r of results) assert.ok(Math.abs(norm(r.vector) - 1) < 1e-6, `norm ${norm(r.vector)}`);
});

test("hash embedder - similar texts are closer than unrelated ones", async () => {
  const [query, similar, unrelated] = (await new HashEmbedder().embed([
    "the cat sat on the warm mat",
    "a cat sat on a warm mat today",
    "quarterly revenue grew in european markets",
  ])).map((r) => r.vector);
  assert.ok(dot(query!, similar!) > dot(query!, unrelated!) + 0.3, `${dot(query!, similar!)} vs ${dot(query!, unrelated!)}`);
});

test("hash embedder - case, accents and compatibility forms are folded", async () => {
  const e = new HashEmbedder();
  const [plain, fancy] = (await e.embed(["cafe creme", "CAFÉ Crème"])).map((r) => r.vector);
  assert.deepEqual(plain, fancy);
  assert.deepEqual(e.countTokens(["ﬁsh-and-chips 2024", "Νερό"]), [4, 1]);
});

test("hash embedder - dimension is configurable and part of the id", async () => {
  const small = new HashEmbedder({ dimension: 64 });
  assert.equal(small.dimension, 64);
  assert.equal(small.id, "hash-64");
  assert.equal((await embedOne(small, "hello world")).vector.length, 64);
  assert.equal(new HashEmbedder().id, "hash-384");
  assert.equal(new HashEmbedder({ maxTokens: 8 }).id, "hash-384-t8");
  assert.throws(() => new HashEmbedder({ dimension: 0 }), RangeError);
});

test("hash embedder - a text over maxTokens words is truncated and flagged", async () => {
  const e = new HashEmbedder({ maxTokens: 4 });
  const [long, short] = await e.embed(["one two three four five six", "one two three four"]);
  assert.deepEqual([long!.truncated, long!.tokens], [true, 4]);
  assert.deepEqual([short!.truncated, short!.tokens], [false, 4]);
  assert.deepEqual(long!.vector, short!.vector);
  assert.deepEqual(e.countTokens(["one two three four five six"]), [6]);
});

test("hash embedder - empty, blank or non-string text is INVALID", async () => {
  const e = new HashEmbedder();
  for (const bad of ["", "   \n\t", 42 as unknown as string]) {
    await assert.rejects(e.embed(["fine", bad]), (err) => isColmenaError(err, "INVALID") && err.details?.index === 1);
  }
  assert.throws(() => e.countTokens([""]), (err) => isColmenaError(err, "INVALID"));
});

test("hash embedder - a closed embedder is UNAVAILABLE", async () => {
  const e = new HashEmbedder();
  await e.close();
  await assert.rejects(e.embed(["text"]), (err) => isColmenaError(err, "UNAVAILABLE"));
});
