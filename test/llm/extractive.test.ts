import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ExtractiveBackend, NOT_FOUND_ANSWER, estimateTokens } from "../../actors/llm/extractive.js";
import { ragMessages } from "../../actors/llm/prompt.js";
import type { Passage } from "../../actors/llm/prompt.js";
import { isColmenaError } from "../../runtime/index.js";
import { collect } from "./helpers.js";

const passages: Passage[] = [
  {
    text: "Worker bees collect nectar from flowers. They fan the nectar with their wings until it thickens. Guards defend the entrance.",
    source: "docs/workers.md",
  },
  {
    text: "The queen is the only fertile female in the colony. The queen lays up to two thousand eggs a day in spring. Drones do not sting.",
    source: "docs/queen.md",
  },
  { text: "Honey is stored in wax cells and capped with wax once it is ripe.", source: "docs/honey.md" },
];
const live = () => new AbortController().signal;
const backend = new ExtractiveBackend();
const ask = (question: string, maxNewTokens = 64, list = passages) =>
  collect(backend.generate({ messages: ragMessages({ question, passages: list }), maxNewTokens }, live()));

test("extractive - answers from the right passage with its citation", async () => {
  const out = await ask("How many eggs does the queen lay?");
  assert.ok(out.text.startsWith("The queen lays up to two thousand eggs a day in spring [2]."), out.text);
  assert.ok(!out.text.includes("[1]"), out.text);
  assert.equal(out.done.reason, "stop");
  const honey = await ask("Where is honey stored?");
  assert.ok(honey.text.startsWith("Honey is stored in wax cells and capped with wax once it is ripe [3]."), honey.text);
});

test("extractive - streams a sentence at a time and counts estimated tokens", async () => {
  const out = await ask("What do worker bees collect?");
  assert.ok(out.tokens.length >= 1);
  out.tokens.forEach((t, i) => assert.match(t, i === 0 ? /^\S.*\[\d+\][.!?]?$/ : /^\s+\S.*\[\d+\][.!?]?$/));
  assert.equal(out.done.completionTokens, estimateTokens(out.text));
  assert.equal(backend.countTokens("one two three"), 4);
});

test("extractive - stays within maxNewTokens", async () => {
  for (const max of [4, 12, 20, 40]) {
    const out = await ask("What does the queen do in the colony and how many eggs does she lay?", max);
    assert.ok(out.done.completionTokens <= max, `${out.done.completionTokens} > ${max}`);
    assert.ok(estimateTokens(out.text) <= max);
  }
  const short = await ask("How many eggs does the queen lay?", 8);
  assert.equal(short.done.reason, "length");
  assert.match(short.text, /\[2\]$/);
});

test("extractive - is deterministic", async () => {
  const a = await ask("Do drones sting or defend the entrance?");
  const b = await ask("Do drones sting or defend the entrance?");
  assert.deepEqual(a, b);
});

test("extractive - with no passages or no match it says it could not find the answer", async () => {
  assert.equal((await ask("Where is honey stored?", 64, [])).text, NOT_FOUND_ANSWER);
  assert.equal((await ask("Quantum chromodynamics?")).text, NOT_FOUND_ANSWER);
  const bare = await collect(backend.generate({ messages: [{ role: "user", content: "Why?" }], maxNewTokens: 32 }, live()));
  assert.equal(bare.text, NOT_FOUND_ANSWER);
  assert.equal(bare.done.reason, "stop");
});

test("extractive - honours stop strings and cancellation", async () => {
  const stopped = await collect(
    backend.generate({ messages: ragMessages({ question: "How many eggs does the queen lay?", passages }), maxNewTokens: 64, stop: [" two"] }, live()),
  );
  assert.equal(stopped.text, "The queen lays up to");
  assert.equal(stopped.done.reason, "stop");
  const controller = new AbortController();
  const events = [];
  for await (const event of backend.generate({ messages: ragMessages({ question: "Where is honey stored?", passages }), maxNewTokens: 64 }, controller.signal)) {
    events.push(event);
    controller.abort();
  }
  assert.deepEqual(events.map((e) => e.type), ["token", "done"]);
  assert.ok(events[1]?.type === "done" && events[1].reason === "cancelled");
});

test("extractive - an invalid request is INVALID", async () => {
  await assert.rejects(
    collect(backend.generate({ messages: ragMessages({ question: "q", passages }), maxNewTokens: -1 }, live())),
    (err) => isColmenaError(err, "INVALID"),
  );
});

test("extractive - slots: unlimited by default, OVERLOADED past maxConcurrent; always healthy; no circuit", async () => {
  assert.equal(backend.slots.capacity, Number.POSITIVE_INFINITY);
  assert.equal(backend.circuit, undefined);
  assert.deepEqual(await backend.health(), { models: ["extractive"], servesModel: true });
  const single = new ExtractiveBackend({ maxConcurrent: 1 });
  const open = single.generate({ messages: ragMessages({ question: "Where is honey stored?", passages }), maxNewTokens: 64 }, live())[Symbol.asyncIterator]();
  assert.equal((await open.next()).done, false);
  assert.equal(single.slots.inFlight, 1);
  await assert.rejects(collect(single.generate({ messages: ragMessages({ question: "q", passages }), maxNewTokens: 8 }, live())), (err) => isColmenaError(err, "OVERLOADED"));
  await open.return?.();
  assert.equal(single.slots.inFlight, 0);
  await single.warmUp();
  assert.equal(single.slots.inFlight, 0, "the warm-up's sequence ends");
});

test("extractive - the token estimate counts what /\\S+/ would match, whatever blank space the text holds", () => {
  const blank = fc.constantFrom(" ", "\t", "\n", "\r", "\v", "\f", "\u00a0", "\u1680", "\u2003", "\u2028", "\u202f", "\u3000", "\ufeff", "\u0085", "\u200b");
  const text = fc.array(fc.oneof(blank, fc.string({ unit: "binary", maxLength: 4 })), { maxLength: 40 }).map((parts) => parts.join(""));
  fc.assert(fc.property(text, (t) => estimateTokens(t) === Math.ceil(((t.match(/\S+/g)?.length ?? 0) * 4) / 3)));
});
