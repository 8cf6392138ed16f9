import assert from "node:assert/strict";
import { test } from "node:test";
import type { ChatMessage } from "../../actors/llm/backend.js";
import { fitPrompt, MESSAGE_OVERHEAD_TOKENS } from "../../actors/llm/prompt-budget.js";
import { parseRagPrompt, ragMessages } from "../../actors/llm/prompt.js";
import { isColmenaError } from "../../runtime/index.js";

const words = (text: string) => text.split(/\s+/).filter((w) => w !== "").length;
const cost = (messages: ChatMessage[]) => messages.reduce((sum, m) => sum + words(m.content) + MESSAGE_OVERHEAD_TOKENS, 0);
const ten = (tag: string) => `${tag} `.repeat(10).trim();

test("llm prompt budget - a prompt that fits is left alone", () => {
  const messages = ragMessages({ question: "What does the queen do?", passages: [{ text: ten("a") }] });
  const fitted = fitPrompt(messages, cost(messages), words);
  assert.deepEqual(fitted, { messages, tokens: cost(messages), droppedHistory: 0, droppedPassages: 0 });
});

test("llm prompt budget - history goes first, oldest turn first, then the lowest-ranked passages", () => {
  const history: ChatMessage[] = [
    { role: "user", content: ten("q1") },
    { role: "assistant", content: ten("a1") },
    { role: "user", content: ten("q2") },
    { role: "assistant", content: ten("a2") },
  ];
  const passages = [{ text: ten("best"), source: "a.md" }, { text: ten("second") }, { text: ten("worst") }];
  const messages = ragMessages({ question: "What does the queen do?", passages }, history);
  const full = cost(messages);

  const lessHistory = fitPrompt(messages, full - 1, words);
  assert.equal(lessHistory.droppedHistory, 2, "the oldest turn: its question and its answer");
  assert.deepEqual(lessHistory.messages.slice(1, 3), history.slice(2));
  assert.deepEqual(lessHistory.messages.at(-1), messages.at(-1));

  const noHistory = cost([messages[0]!, messages.at(-1)!]);
  const fewerPassages = fitPrompt(messages, noHistory - 1, words);
  assert.equal(fewerPassages.droppedHistory, 4);
  assert.equal(fewerPassages.droppedPassages, 1);
  assert.equal(fewerPassages.messages.length, 2);
  assert.deepEqual(parseRagPrompt(fewerPassages.messages), { question: "What does the queen do?", passages: passages.slice(0, 2) });
  assert.ok(fewerPassages.tokens <= noHistory - 1);

  assert.throws(() => fitPrompt(messages, 10, words), (e) => isColmenaError(e, "INVALID") && /maxPromptTokens is 10/.test(e.message));
});
