import assert from "node:assert/strict";
import { test } from "node:test";
import { ExtractiveBackend } from "../../actors/llm/extractive.js";
import { ragMessages, type Passage } from "../../actors/llm/prompt.js";
import { composeAnswer } from "../../actors/llm/compose-answer.js";
import { questionTerms, terms } from "../../actors/llm/relevance.js";
import { collect } from "./helpers.js";

const passages: Passage[] = [
  {
    text: [
      "# Streams",
      "",
      "Streams store messages. To create a stream with the CLI, run the following command:",
      "",
      "```shell",
      'nats stream add ORDERS --subjects "ORDERS.*"',
      "```",
      "",
      "## Limits",
      "",
      "A stream can limit its size. The discard policy decides what happens when a stream is full: DiscardOld removes the oldest message.",
    ].join("\n"),
    source: "streams.md",
  },
  {
    text: "```js\nconst js = nc.jetstream(); await jsm.streams.add({ name: \"ORDERS\" });\n```\n\nClients can create streams too.",
    source: "client.md",
  },
];

const answer = async (question: string, list = passages, maxNewTokens = 200) =>
  (await collect(new ExtractiveBackend().generate({ messages: ragMessages({ question, passages: list }), maxNewTokens }, new AbortController().signal))).text;

test("compose - a how-to question gets its command as a code block after the sentence that cites it", async () => {
  const text = await answer("How do I create a stream with the CLI?");
  assert.ok(text.includes('```shell\nnats stream add ORDERS --subjects "ORDERS.*"\n```'), text);
  assert.match(text, /run the following command \[1\]:\n\n```shell/);
  const code = text.slice(text.indexOf("```"), text.lastIndexOf("```"));
  assert.ok(!/\[\d+\]/.test(code), "no citation inside code");
});

test("compose - a question that is not how-to gets sentences only, covering its terms", async () => {
  const text = await answer("What happens when a stream is full?");
  assert.ok(!text.includes("```"), text);
  assert.match(text, /DiscardOld removes the oldest message \[1\]\./);
});

test("compose - sentences carry no markup: links, code marks and emphasis become text", async () => {
  const text = await answer("Where are JetStream limits set?", [{ text: "JetStream limits are set in the [`jetstream` block](config.md#js) of **the server** config." }]);
  assert.equal(text, "JetStream limits are set in the jetstream block of the server config [1].");
});

test("compose - nothing is chosen when no sentence holds a fair share of the question", () => {
  assert.deepEqual(composeAnswer("How do I rotate certificates on Kubernetes clusters?", [{ text: "Bees make honey." }], 3), []);
});

test("compose - a sentence that ends with a colon brings the list it introduces", async () => {
  const list: Passage[] = [
    {
      text: [
        "## Deliver policy",
        "",
        "When setting up a consumer you can decide where it starts reading, the system supports the following deliver policies:",
        "",
        "- all: delivers every message in the stream",
        "- last: delivers the latest message",
        "- new: delivers only messages that arrive after the consumer starts",
        "",
        "Bees make honey.",
      ].join("\n"),
    },
  ];
  const text = await answer("Where can a consumer start reading?", list);
  assert.ok(text.startsWith("When setting up a consumer you can decide where it starts reading, the system supports the following deliver policies [1]:\n\n- all: delivers every message in the stream\n- last: delivers the latest message\n- new:"), text);
  assert.ok(!text.includes("Bees"), text);
});

test("compose - a colon whose list the passage cut off ends as a full stop", async () => {
  const cut: Passage[] = [{ text: "You must also select a discard policy, which says what happens once a stream has reached one of its limits:" }];
  assert.equal(await answer("What happens once a stream reaches its limits?", cut), "You must also select a discard policy, which says what happens once a stream has reached one of its limits [1].");
});

test("compose - an abbreviation does not end a sentence", async () => {
  const text = await answer("Which clients have a JetStream management context?", [
    { text: "Some client libraries (e.g. Java) also have a JetStream management context. Bees make honey." },
  ]);
  assert.equal(text, "Some client libraries (e.g. Java) also have a JetStream management context [1].");
});

test("compose - once the question is covered, sentences nearly as good as the first are added, weak ones are not", () => {
  const parts = composeAnswer("How are stream limits enforced?", [
    { text: "Stream limits are enforced by the server. Limits vary. Stream limits are enforced when a message is stored. Bees make honey." },
  ], 4);
  assert.deepEqual(parts.map((p) => p.text), ["Stream limits are enforced by the server.", "Stream limits are enforced when a message is stored."]);
});

test("compose - a question in words meets an identifier in camel case", async () => {
  const text = await answer("What does max ack pending do?", [
    { text: "A consumer waits for each ack before it redelivers. MaxAckPending caps the messages a consumer may hold without an acknowledgement." },
  ]);
  assert.ok(text.startsWith("MaxAckPending caps the messages"), text);
  assert.deepEqual(terms("DiscardOld"), ["discardold", "discard", "old"]);
  assert.deepEqual(questionTerms("Is JetStream on?"), ["jetstream"], "a question's identifier is one term: not jets, not streams twice");
});

test("compose - question words the stop list lacks and possessives choose no sentence", async () => {
  const text = await answer("What happens when a stream reaches its limits?", [
    { text: "When its turn comes, a bee dances. A stream that reaches a limit discards its oldest messages." },
  ]);
  assert.equal(text, "A stream that reaches a limit discards its oldest messages [1].");
  assert.deepEqual(terms("a user's credentials"), terms("user credentials"));
});

test("compose - a how-to code block with no sentence of its own comes after the list the first sentence introduces", async () => {
  const text = await answer("How do I install the tool?", [
    { text: "## Installing\n\nThe tool can be installed in several forms:\n\n- a binary\n- a container image" },
    { text: "```shell\ncurl -sf https://example.com/install.sh | sh\ninstall-tool\n```" },
  ]);
  assert.ok(text.startsWith("The tool can be installed in several forms [1]:\n\n- a binary\n- a container image\n\nFor example [2]\n\n```shell"), text);
});

test("compose - a how-to code block that holds little of the question is left out", async () => {
  const text = await answer("How do I create a stream with retention limits?", [
    { text: "To create a stream with retention limits, use the stream add command." },
    { text: "```go\nlimit := 5\n```" },
  ]);
  assert.equal(text, "To create a stream with retention limits, use the stream add command [1].");
});
