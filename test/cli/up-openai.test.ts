import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

/** The server's own cap on an answer (llm.limits.maxNewTokens), set low so that requests above it are seen clamped. */
const SERVER_LIMIT = 24;

describe("colmena up - the OpenAI surface: usage, model, token limits (official client, real HTTP)", () => {
  let up: ColmenaProcess;
  let client: OpenAI;
  let model: string;
  const question = (content: string) => [{ role: "user" as const, content }];
  before(async () => {
    up = await startColmenaUp(["--set", `llm.limits.maxNewTokens=${SERVER_LIMIT}`]);
    client = new OpenAI({ baseURL: `${up.httpUrl}/v1`, apiKey: "unused", maxRetries: 0 });
    const text = Array.from({ length: 40 }, (_, i) => `Queue group member ${i} receives each message of the subject alone, one member at a time.`).join(" ");
    const res = await fetch(`${up.httpUrl}/v1/documents`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ documents: [{ id: "queues", text: `# Queue groups\n\n${text}` }] }) });
    assert.equal(res.status, 202);
    model = (await client.models.list()).data[0]!.id;
    for (let i = 0; i < 200; i++) {
      const found = (await (await fetch(`${up.httpUrl}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "queue group member" }) })).json()) as { sources: unknown[] };
      if (found.sources.length > 0) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail("the document never became searchable");
  });
  after(async () => assert.equal(await up?.stop(), 0));

  test("openai - a completion reports usage: prompt and completion tokens, and their total", async () => {
    const chat = await client.chat.completions.create({ model, messages: question("Who receives a message sent to a queue group?") });
    const usage = chat.usage!;
    assert.ok(usage.prompt_tokens > 0, "the prompt held the question and its passages");
    assert.ok(usage.completion_tokens > 0 && usage.completion_tokens <= SERVER_LIMIT, String(usage.completion_tokens));
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  test("openai - stream_options.include_usage adds OpenAI's last chunk: no choices, the usage", async () => {
    const chunks = [];
    const stream = await client.chat.completions.create({ model, stream: true, stream_options: { include_usage: true }, messages: question("What does a queue group member receive?") });
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.ok(last.usage!.prompt_tokens > 0);
    assert.ok(last.usage!.completion_tokens > 0);
    assert.ok(chunks.slice(0, -1).every((c) => c.choices.length === 1), "every other chunk has its choice");

    const without = [];
    for await (const chunk of await client.chat.completions.create({ model, stream: true, messages: question("What does a queue group member receive?") })) without.push(chunk);
    assert.ok(without.every((c) => c.usage == null), "no usage chunk unless asked");
  });

  test("openai - a cached answer streams in chunks like a fresh one", async () => {
    const streamed = async () => {
      const chunks = [];
      for await (const chunk of await client.chat.completions.create({ model, stream: true, messages: question("Is each message of a queue group for one member?") })) chunks.push(chunk);
      return chunks.map((c) => c.choices[0]?.delta.content ?? "").filter((t) => t !== "");
    };
    const fresh = await streamed();
    const cached = await streamed();
    assert.ok(fresh.length >= 1);
    assert.equal(cached.join(""), fresh.join(""));
    assert.deepEqual(cached, fresh, "the same pieces as the fresh answer streamed");
  });

  test("openai - stop ends the answer before the stop text; sampling values outside OpenAI's ranges are a 400", async () => {
    const q = question("Which member receives the message of a queue group?");
    const whole = (await client.chat.completions.create({ model, messages: q })).choices[0]!.message.content!;
    const word = whole.split(/\s+/).filter((w) => /^[a-z]{4,}$/.test(w))[1]!;
    assert.ok(word, whole);
    const stopped = await client.chat.completions.create({ model, messages: q, stop: [word], temperature: 0, seed: 7, top_p: 1 });
    const text = stopped.choices[0]!.message.content!;
    assert.ok(!text.includes(word) && whole.startsWith(text.trimEnd()), `${JSON.stringify(text)} stops before ${word}`);
    assert.equal(stopped.choices[0]!.finish_reason, "stop");
    for (const bad of [{ temperature: 3 }, { top_p: 0 }, { stop: ["a", "b", "c", "d", "e"] }]) {
      await assert.rejects(client.chat.completions.create({ model, messages: q, ...bad }), (err: unknown) => err instanceof OpenAI.BadRequestError, JSON.stringify(bad));
    }
  });

  test("openai - a model other than the server's is a 404 model_not_found in OpenAI's error shape", async () => {
    await assert.rejects(client.chat.completions.create({ model: "gpt-4o", messages: question("Who receives a message?") }), (err: unknown) => {
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, "model_not_found");
      assert.equal(err.type, "invalid_request_error");
      assert.equal(err.param, "model");
      return true;
    });
  });

  test("openai - max_tokens and max_completion_tokens cap the answer (finish_reason length), within the server's own limit", async () => {
    const ask = async (limits: { max_tokens?: number; max_completion_tokens?: number }, q: string) =>
      client.chat.completions.create({ model, messages: question(q), ...limits });
    const short = await ask({ max_tokens: 4 }, "Which member receives the message of a queue group?");
    assert.ok(short.usage!.completion_tokens <= 4, String(short.usage!.completion_tokens));
    assert.equal(short.choices[0]!.finish_reason, "length", "cut at the limit, as OpenAI says it");
    const streamed = [];
    for await (const chunk of await client.chat.completions.create({ model, stream: true, max_tokens: 4, messages: question("Which member receives the message of a queue group?") })) streamed.push(chunk);
    assert.equal(streamed.at(-1)!.choices[0]!.finish_reason, "length");
    assert.equal(streamed.map((c) => c.choices[0]!.delta.content ?? "").join(""), short.choices[0]!.message.content, "the same capped answer, streamed");
    const shorter = await ask({ max_completion_tokens: 2, max_tokens: 1_000 }, "Which member receives the message of a queue group?");
    assert.ok(shorter.usage!.completion_tokens <= 2, "max_completion_tokens wins over max_tokens");
    const huge = await ask({ max_tokens: 100_000 }, "Which member receives the message of a queue group?");
    assert.ok(huge.usage!.completion_tokens <= SERVER_LIMIT, "clamped to llm.limits.maxNewTokens");
    assert.ok(huge.choices[0]!.message.content!.length > short.choices[0]!.message.content!.length, "a tighter limit, a shorter answer");
  });
});
