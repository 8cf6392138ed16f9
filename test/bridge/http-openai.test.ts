import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { ColmenaError, overloaded } from "../../runtime/index.js";
import { startBridge, type TestBridge } from "./http-harness.js";

describe("openai - the official client against the bridge", () => {
  let bridge: TestBridge;
  let client: OpenAI;
  before(async () => {
    bridge = await startBridge();
    client = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: "x", maxRetries: 0 });
    await bridge.api.ingest([
      { id: "bees", text: "Bees make honey from nectar." },
      { id: "ants", text: "Ants farm aphids for honeydew." },
    ]);
  });
  after(() => bridge.close());

  test("openai - chat.completions.create answers the last user message, with sources", async () => {
    const completion = await client.chat.completions.create({
      model: "fake-llm",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Tell me about ants" },
        { role: "assistant", content: "Ants are insects." },
        { role: "user", content: "How do bees make honey?" },
      ],
      temperature: 0.2,
    });
    assert.equal(completion.object, "chat.completion");
    assert.equal(completion.model, "fake-llm");
    assert.equal(completion.choices[0]!.message.role, "assistant");
    assert.equal(completion.choices[0]!.message.content, "From bees: Bees make honey from nectar.");
    assert.equal(completion.choices[0]!.finish_reason, "stop");
    const extra = completion as unknown as { sources: { doc_id: string }[]; session_id: string };
    assert.equal(extra.sources[0]!.doc_id, "bees");
    assert.equal(bridge.api.requests.at(-1)!.req!.question, "How do bees make honey?");
    assert.equal(bridge.api.requests.at(-1)!.req!.model, "fake-llm", "the chosen model travels with the question");
  });

  test("openai - a streamed chat completion sends chunks, sources on the last one, and [DONE]", async () => {
    const stream = await client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "How do bees make honey?" }], stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length > 3);
    for (const chunk of chunks) assert.equal(chunk.object, "chat.completion.chunk");
    assert.equal(chunks[0]!.choices[0]!.delta.role, "assistant");
    const text = chunks.map((c) => c.choices[0]!.delta.content ?? "").join("");
    assert.equal(text, "From bees: Bees make honey from nectar.");
    const last = chunks.at(-1)!;
    assert.equal(last.choices[0]!.finish_reason, "stop");
    assert.equal((last as unknown as { sources: { doc_id: string }[] }).sources[0]!.doc_id, "bees");
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, "every chunk carries the completion's id");
  });

  test("openai - the session comes from X-Session-Id, else from a hash of user", async () => {
    await client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "bees?" }] }, { headers: { "X-Session-Id": "conv-42" } });
    assert.equal(bridge.api.requests.at(-1)!.req!.sessionId, "conv-42");

    const user = "alice@example.com";
    const { response } = await client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "bees?" }], user }).withResponse();
    const expected = `user-${createHash("sha256").update(user).digest("hex").slice(0, 40)}`;
    assert.equal(bridge.api.requests.at(-1)!.req!.sessionId, expected);
    assert.equal(response.headers.get("x-session-id"), expected);

    await client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "bees?" }] });
    assert.equal(bridge.api.requests.at(-1)!.req!.sessionId, undefined, "no header and no user: the api opens a new session");
  });

  test("openai - embeddings.create works with the client's default base64 and with floats", async () => {
    const texts = ["bees make honey", "ants farm aphids"];
    const viaBase64 = await client.embeddings.create({ model: "fake-embedder", input: texts });
    assert.equal(viaBase64.object, "list");
    assert.equal(viaBase64.model, "fake-embedder");
    assert.equal(viaBase64.data.length, 2);
    for (const [i, item] of viaBase64.data.entries()) {
      assert.equal(item.index, i);
      assert.deepEqual(item.embedding, Array.from(bridge.api.vectorOf(texts[i]!)));
    }
    assert.ok(viaBase64.usage.prompt_tokens > 0);

    const viaFloats = await client.embeddings.create({ model: "fake-embedder", input: "bees make honey", encoding_format: "float" });
    assert.deepEqual(viaFloats.data[0]!.embedding, Array.from(bridge.api.vectorOf("bees make honey")));
  });

  test("openai - models.list and models.retrieve show every embedder and llm, with its kind and whether it is loaded", async () => {
    const listed = [];
    for await (const model of client.models.list()) {
      assert.equal(model.owned_by, "colmena");
      assert.equal(model.object, "model");
      assert.ok(Number.isInteger(model.created));
      const { id, kind, loaded } = model as typeof model & { kind: string; loaded: boolean };
      listed.push({ id, kind, loaded });
    }
    assert.deepEqual(listed, [
      { id: "fake-llm", kind: "llm", loaded: true },
      { id: "fake-embedder", kind: "embedder", loaded: true },
      { id: "fake-embedder-2", kind: "embedder", loaded: false },
    ]);
    assert.equal((await client.models.retrieve("fake-llm")).id, "fake-llm");
    await assert.rejects(client.models.retrieve("gpt-4"), (e) => e instanceof OpenAI.NotFoundError);
  });

  test("openai - model selects the embedder; one not served is OpenAI's model_not_found listing those served", async () => {
    const second = await client.embeddings.create({ model: "fake-embedder-2", input: "bees", encoding_format: "float" });
    assert.equal(second.model, "fake-embedder-2");
    await assert.rejects(client.embeddings.create({ model: "text-embedding-3-small", input: "bees" }), (e) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      assert.equal(e.code, "model_not_found");
      assert.match(e.message, /"text-embedding-3-small".*"fake-embedder", "fake-embedder-2"/);
      return true;
    });
    const before = bridge.api.requests.length;
    await assert.rejects(client.chat.completions.create({ model: "fake-embedder-2", messages: [{ role: "user", content: "bees?" }] }), (e) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");
    assert.equal(bridge.api.requests.length, before, "refused at the edge: nothing was asked");
  });

  test("openai - shed load reaches the client as a 429 with Retry-After", async () => {
    bridge.api.failNext("query", overloaded("llm pool full", 2500));
    await assert.rejects(
      client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "bees?" }] }),
      (e) => e instanceof OpenAI.RateLimitError && e.headers.get("retry-after") === "3" && e.message.includes("llm pool full"),
    );
  });

  test("openai - a failure mid-stream is an APIError in the client's loop", async () => {
    bridge.api.streamFailure = { after: 2, error: new ColmenaError("UNAVAILABLE", "llm instance failed") };
    try {
      const stream = await client.chat.completions.create({ model: "fake-llm", messages: [{ role: "user", content: "bees?" }], stream: true });
      await assert.rejects(
        (async () => {
          for await (const _ of stream);
        })(),
        (e) => e instanceof OpenAI.APIError && e.message.includes("llm instance failed"),
      );
    } finally {
      bridge.api.streamFailure = undefined;
    }
  });

  test("openai - a conversation without a user message is a 400", async () => {
    await assert.rejects(
      client.chat.completions.create({ model: "fake-llm", messages: [{ role: "system", content: "hi" }] }),
      (e) => e instanceof OpenAI.BadRequestError && e.message.includes("no user message"),
    );
  });

  test("openai - text content parts are joined; a dimensions that does not match is a 400", async () => {
    const completion = await client.chat.completions.create({
      model: "fake-llm",
      messages: [{ role: "user", content: [{ type: "text", text: "How do bees " }, { type: "text", text: "make honey?" }] }],
    });
    assert.equal(bridge.api.requests.at(-1)!.req!.question, "How do bees make honey?");
    assert.equal(completion.choices[0]!.message.content, "From bees: Bees make honey from nectar.");
    await assert.rejects(
      client.embeddings.create({ model: "fake-embedder", input: "bees", dimensions: 1536 }),
      (e) => e instanceof OpenAI.BadRequestError && e.message.includes("8 dimensions"),
    );
  });
});
