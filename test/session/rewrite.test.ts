import assert from "node:assert/strict";
import { test } from "node:test";
import { boundHistory, historyMessages, type Turn } from "../../actors/session/history.js";
import { heuristicRewrite, isFollowUp, keyTerms, parseRewrite, rewritePrompt } from "../../actors/session/rewrite.js";

const turn = (question: string, answer = "An answer.", query?: string): Turn => ({ question, answer, sources: [], at: 0, ...(query && { query }) });

test("session rewrite - follow-ups get the previous question's key terms prepended", () => {
  const cases: Array<[previous: string, question: string, expected: string]> = [
    ["What does the queen bee do?", "How long does she live?", "queen bee How long does she live?"],
    ["What is a worker bee?", "Does it sting?", "worker bee Does it sting?"],
    ["How do bees make honey?", "And the drones?", "bees make honey And the drones?"],
    ["How do bees make honey?", "Why?", "bees make honey Why?"],
    ["How many eggs does the queen lay?", "what about drones", "eggs queen lay what about drones"],
    ["Where do wasps build their nests?", "The hornets?", "wasps build nests The hornets?"],
    ["What is the swarm season in Spain?", "How long does that last?", "swarm season spain How long does that last?"],
  ];
  for (const [previous, question, expected] of cases) {
    assert.deepEqual(heuristicRewrite(question, previous), { query: expected, rewritten: true }, `${previous} → ${question}`);
  }
});

test("session rewrite - standalone questions, first questions and already-covered terms are left alone", () => {
  assert.deepEqual(heuristicRewrite("What is propolis?", "How do bees make honey?"), { query: "What is propolis?", rewritten: false });
  assert.deepEqual(heuristicRewrite("Who lays the eggs in a hive?", "What is a drone?"), { query: "Who lays the eggs in a hive?", rewritten: false });
  assert.deepEqual(heuristicRewrite("How long does she live?", undefined), { query: "How long does she live?", rewritten: false });
  assert.deepEqual(heuristicRewrite("Does the queen bee sting it?", "What does the queen bee do?"), { query: "Does the queen bee sting it?", rewritten: false });
  assert.equal(heuristicRewrite("why?", "a b c d e f g h i j", 3).query, "why?", "single letters are not key terms");
  assert.equal(heuristicRewrite("Why?", "alpha beta gamma delta epsilon zeta eta", 3).query, "alpha beta gamma Why?");
});

test("session rewrite - follow-up detection and key terms", () => {
  for (const q of ["Is it poisonous?", "and in winter?", "How many?", "those ones?", "What about the drones?"]) assert.ok(isFollowUp(q), q);
  for (const q of ["What is propolis?", "How do bees communicate?", "Explain the waggle dance", ""]) assert.ok(!isFollowUp(q), q);
  assert.deepEqual(keyTerms("What's the life span of a Queen bee, in 2024?"), ["life", "span", "queen", "bee", "2024"]);
});

test("session rewrite - the llm prompt shows recent turns and its answer is cleaned up", () => {
  const prompt = rewritePrompt([turn("What does the queen do?", "She lays   eggs.\nMany of them.")], "How long does she live?");
  assert.equal(prompt[0]?.role, "system");
  assert.equal(
    prompt[1]?.content,
    "Conversation:\nUser: What does the queen do?\nAssistant: She lays eggs. Many of them.\n\nFollow-up question: How long does she live?\n\nStandalone query:",
  );
  assert.equal(parseRewrite('\n  Standalone query: "How long does a queen bee live?"\nExplanation: ...'), "How long does a queen bee live?");
  assert.equal(parseRewrite("  \n "), undefined);
});

test("session history - bounded by turns, then by tokens, the newest turn always kept", () => {
  const turns = ["one", "two", "three", "four"].map((q) => turn(q, "word ".repeat(30).trim()));
  const byTurns = boundHistory(turns, { maxTurns: 3, maxTokens: 10_000 });
  assert.deepEqual(byTurns.turns.map((t) => t.question), ["two", "three", "four"]);
  assert.equal(byTurns.dropped, 1);
  const byTokens = boundHistory(turns, { maxTurns: 10, maxTokens: 90 });
  assert.deepEqual(byTokens.turns.map((t) => t.question), ["three", "four"], "each turn is about 42 tokens");
  const tiny = boundHistory(turns, { maxTurns: 10, maxTokens: 10 });
  assert.deepEqual(tiny.turns.map((t) => t.question), ["four"]);
  assert.equal(tiny.turns[0]?.answer, "word word word word word word", "an oversized newest turn is cut to fit");
  assert.deepEqual(historyMessages(turns, 1), [
    { role: "user", content: "four" },
    { role: "assistant", content: turns[3]!.answer },
  ]);
});
