import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import OpenAI from "openai";
import { PassThrough } from "node:stream";
import { ask } from "../../cli/commands/ask.js";
import { readSse } from "../../cli/sse.js";
import { connectToUp, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

const packr = new Packr({ useRecords: false, moreTypes: true });
const DOCS = [
  { id: "jetstream", text: "# JetStream\n\nJetStream is the persistence layer of NATS. Streams store messages; consumers read them with acknowledgements.", metadata: { topic: "storage" } },
  { id: "kv", text: "# Key-value store\n\nThe key-value store keeps the latest value per key in a bucket, with history and TTL, built on a JetStream stream.", metadata: { topic: "storage" } },
  { id: "queues", text: "# Queue groups\n\nSubscribers in a queue group share the messages of a subject: each message goes to one member only.", metadata: { topic: "core" } },
];

async function post(base: string, path: string, body: unknown): Promise<Response> {
  return fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Ingest is acknowledged when stored; indexing follows. Wait until the query finds the document. */
async function waitSearchable(base: string, question: string, docId: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const res = (await (await post(base, "/v1/query", { question, top_k: 3 })).json()) as { sources: Array<{ doc_id: string }> };
    if (res.sources.some((s) => s.doc_id === docId)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${docId} never became searchable`);
}

describe("colmena up - the embedded default, black box", () => {
  let up: ColmenaProcess;
  before(async () => {
    up = await startColmenaUp();
    const res = await post(up.httpUrl, "/v1/documents", { documents: DOCS });
    assert.equal(res.status, 202);
    assert.deepEqual(((await res.json()) as { ids: string[] }).ids, ["jetstream", "kv", "queues"]);
    await waitSearchable(up.httpUrl, "What is a queue group?", "queues");
  });
  after(async () => {
    assert.equal(await up?.stop(), 0, "Ctrl-C ends colmena up cleanly");
  });

  test("colmena up - a request's traceparent is continued: the answer carries the same trace id", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await fetch(`${up.httpUrl}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ question: "What is JetStream?" }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("traceparent") ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  test("colmena up - is ready, and answers a question with sources over plain HTTP", async () => {
    assert.equal((await fetch(`${up.httpUrl}/ready`)).status, 200);
    const res = (await (await post(up.httpUrl, "/v1/query", { question: "What does the key-value store keep?" })).json()) as Record<string, unknown>;
    assert.match(String(res.answer), /latest value per key/);
    assert.equal((res.sources as Array<{ doc_id: string }>)[0]!.doc_id, "kv");
    assert.equal(res.cached, false);
    const again = (await (await post(up.httpUrl, "/v1/query", { question: "what does the key-value store keep" })).json()) as Record<string, unknown>;
    assert.equal(again.cached, true, "the same question, spelled differently, comes from the cache");
    assert.equal(again.answer, res.answer);
  });

  test("colmena up - streams an answer as server-sent events: meta, tokens, sources, done", async () => {
    const res = await post(up.httpUrl, "/v1/query", { question: "How do consumers read a stream, and what keeps the latest value per key?", stream: true });
    assert.match(res.headers.get("content-type") ?? "", /text\/event-stream/);
    const events: string[] = [];
    let text = "";
    for await (const e of readSse(res.body!)) {
      events.push(e.event);
      if (e.event === "token") text += (JSON.parse(e.data) as { text: string }).text;
    }
    assert.equal(events[0], "meta");
    // The extractive answer streams a sentence per token event; this question takes two.
    assert.ok(events.filter((e) => e === "token").length > 1, "more than one token event");
    assert.deepEqual(events.slice(-2), ["sources", "done"]);
    assert.match(text, /acknowledgements/);
    assert.match(text, /latest value per key/);
  });

  test("colmena up - colmena ask streams the answer, then each source's title, path, heading, snippet and relative score", async () => {
    const out = new PassThrough();
    let printed = "";
    out.setEncoding("utf8").on("data", (d: string) => (printed += d));
    await ask("How do subscribers in a queue group share messages?", { url: up.httpUrl, topK: 2 }, out);
    const [answer, sources = ""] = printed.split("\nSources:\n");
    assert.match(answer!, /each message goes to one member only/);
    // The first source is the best one (100%); its block names the document's title and path, the section and a snippet of it.
    assert.match(sources, /^ {2}\[1\] Queue groups — queues \(100%\)\n {6}§ Queue groups\n {6}Subscribers in a queue group share the messages of a subject/);
    assert.match(sources, /\n {2}\[2\] .+ \(\d{1,2}%\)\n/);
  });

  test("colmena up - a follow-up in the same session is rewritten with the earlier question", async () => {
    const first = (await (await post(up.httpUrl, "/v1/query", { question: "What is JetStream?", session_id: "s-follow" })).json()) as { session_id: string };
    assert.equal(first.session_id, "s-follow");
    const follow = (await (await post(up.httpUrl, "/v1/query", { question: "And how do its consumers read?", session_id: "s-follow" })).json()) as { sources: Array<{ doc_id: string }> };
    assert.equal(follow.sources[0]!.doc_id, "jetstream");
  });

  test("colmena up - a question without a session id opens one that a follow-up can continue", async () => {
    const first = (await (await post(up.httpUrl, "/v1/query", { question: "What is JetStream?" })).json()) as { session_id: string };
    assert.match(first.session_id, /^[0-9a-f-]{36}$/);
    const follow = (await (await post(up.httpUrl, "/v1/query", { question: "And what do its members get?", session_id: first.session_id })).json()) as { sources: Array<{ doc_id: string }> };
    assert.equal(follow.sources[0]!.doc_id, "jetstream", "the opening turn was stored for the follow-up to be rewritten with");
    const alone = (await (await post(up.httpUrl, "/v1/query", { question: "And what do its members get?" })).json()) as { sources: Array<{ doc_id: string }> };
    assert.notEqual(alone.sources[0]?.doc_id, "jetstream", "without the session the follow-up alone ranks another document first");
  });

  test("colmena up - the official openai client works unchanged", async () => {
    const client = new OpenAI({ baseURL: `${up.httpUrl}/v1`, apiKey: "unused" });
    const models = await client.models.list();
    assert.ok(models.data.length >= 2);
    const model = models.data[0]!.id; // the default llm is listed first
    const chat = await client.chat.completions.create({ model, messages: [{ role: "user", content: "Who gets a message sent to a queue group?" }] });
    assert.match(chat.choices[0]!.message.content ?? "", /one member/);
    let streamed = "";
    const stream = await client.chat.completions.create({ model, stream: true, messages: [{ role: "user", content: "What is JetStream?" }] });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
    assert.match(streamed, /persistence layer/);
    // "What does it keep?" alone ranks the queue-groups document first; the resent turns point it at the key-value store.
    const followUp = (await client.chat.completions.create({
      model,
      messages: [
        { role: "user", content: "Tell me about the key-value store" },
        { role: "assistant", content: "ok" },
        { role: "user", content: "What does it keep?" },
      ],
    })) as OpenAI.Chat.ChatCompletion & { sources: Array<{ doc_id: string }> };
    assert.equal(followUp.sources[0]!.doc_id, "kv", "a stateless client's earlier turns steer the follow-up");
    // The embedder /v1/models lists (an id it does not list is model_not_found, as for chat).
    const embedder = models.data.find((m) => (m as typeof m & { kind: string }).kind === "embedder")!.id;
    const emb = await client.embeddings.create({ model: embedder, input: ["queue groups", "key value"] });
    assert.equal(emb.model, "hash-384");
    assert.equal(emb.data.length, 2);
    assert.equal(emb.data[0]!.embedding.length, 384);
  });

  test("colmena up - documents can be read and deleted, and a deleted one is no longer retrieved", async () => {
    const info = (await (await fetch(`${up.httpUrl}/v1/documents/queues`)).json()) as { id: string; chunks: number };
    assert.equal(info.id, "queues");
    assert.ok(info.chunks >= 1);
    assert.equal((await fetch(`${up.httpUrl}/v1/documents/queues`, { method: "DELETE" })).status, 200);
    for (let i = 0; i < 200 && (await fetch(`${up.httpUrl}/v1/documents/queues`)).status !== 404; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal((await fetch(`${up.httpUrl}/v1/documents/queues`)).status, 404);
    const res = (await (await post(up.httpUrl, "/v1/query", { question: "queue group members share messages" })).json()) as { sources: Array<{ doc_id: string }> };
    assert.ok(!res.sources.some((s) => s.doc_id === "queues"));
  });

  test("colmena up - bad requests get the documented errors and the server keeps serving", async () => {
    const raw = (body: string | Uint8Array, type = "application/json") => fetch(`${up.httpUrl}/v1/query`, { method: "POST", headers: { "content-type": type }, body });
    assert.equal((await raw("{not json")).status, 400);
    assert.equal((await raw(JSON.stringify({ question: 42 }))).status, 400);
    assert.equal((await raw(new Uint8Array([0x7b, 0x22, 0x71, 0xff, 0xfe, 0x22, 0x7d]))).status, 400);
    // Refused by its length before it is read: the client is still sending, and gets the 413 every time, not a broken pipe.
    const tooLarge = JSON.stringify({ question: "x".repeat(2 * 1024 * 1024) });
    for (let i = 0; i < 20; i++) assert.equal((await raw(tooLarge)).status, 413);
    assert.equal((await fetch(`${up.httpUrl}/v1/nope`)).status, 404);
    const body = (await (await raw("{")).json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "INVALID");
    assert.equal((await post(up.httpUrl, "/v1/query", { question: "What is JetStream?" })).status, 200);
  });

  describe("colmena up - NATS service API", () => {
    let nc: NatsConnection;
    before(async () => {
      nc = await connectToUp(up, "service");
    });
    after(async () => {
      await nc?.close();
    });

    test("colmena up - a NATS client with the service user's creds (printed in the banner) can query, embed and discover the service", async () => {
      const reply = await nc.request("colmena.api.query", packr.pack({ question: "What is JetStream?" }), { timeout: 10_000 });
      const answer = packr.unpack(reply.data) as { answer: string; sources: unknown[] };
      assert.match(answer.answer, /persistence layer/);
      const emb = packr.unpack((await nc.request("colmena.api.embed", packr.pack({ texts: ["hello"] }), { timeout: 10_000 })).data) as { vectors: unknown[] };
      assert.equal(emb.vectors.length, 1);
      const ping = await nc.request("$SRV.PING.colmena", new Uint8Array(), { timeout: 5_000 });
      assert.equal((JSON.parse(new TextDecoder().decode(ping.data)) as { name: string }).name, "colmena");
      const bad = await nc.request("colmena.api.query", new Uint8Array([0xc1, 0x00]), { timeout: 5_000 });
      assert.equal(bad.headers?.get("Nats-Service-Error-Code"), "400");
    });
  });
});
