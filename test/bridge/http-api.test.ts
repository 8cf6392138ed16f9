import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { ColmenaError, overloaded } from "../../runtime/index.js";
import { json, parseSse, startBridge, type TestBridge } from "./http-harness.js";

describe("http - documents and query", () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  test("http - ingest answers 202 with the ids, get finds them, delete removes them", async () => {
    const ingest = await fetch(`${bridge.url}/v1/documents`, json({ documents: [{ id: "bees", text: "Bees make honey in hives.", metadata: { lang: "en" } }, { text: "Ants build colonies." }] }));
    assert.equal(ingest.status, 202);
    const { ids } = (await ingest.json()) as { ids: string[] };
    assert.equal(ids.length, 2);
    assert.equal(ids[0], "bees");

    const get = await fetch(`${bridge.url}/v1/documents/bees`);
    assert.equal(get.status, 200);
    assert.deepEqual(await get.json(), { id: "bees", chunks: 1, metadata: { lang: "en" } });

    const del = await fetch(`${bridge.url}/v1/documents/${encodeURIComponent(ids[1]!)}`, { method: "DELETE" });
    assert.equal(del.status, 200);
    assert.deepEqual(await del.json(), { deleted: true });
    const again = await fetch(`${bridge.url}/v1/documents/${encodeURIComponent(ids[1]!)}`, { method: "DELETE" });
    assert.equal(again.status, 404);
    assert.equal(((await again.json()) as { error: { code: string } }).error.code, "NOT_FOUND");
    const gone = await fetch(`${bridge.url}/v1/documents/${encodeURIComponent(ids[1]!)}`);
    assert.equal(gone.status, 404);
  });

  test("http - a JSON query answers with snake_case fields from the documents", async () => {
    await bridge.api.ingest([{ id: "hive", text: "A hive holds one queen bee." }]);
    const res = await fetch(`${bridge.url}/v1/query`, json({ question: "Who rules the hive?", session_id: "s-1", top_k: 2, filter: { lang: "xx" } }));
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ["answer", "cached", "degraded", "missing_shards", "partial", "session_id", "sources", "timings"]);
    assert.equal(body.session_id, "s-1");
    assert.deepEqual(body.sources, []); // the filter matches nothing
    const last = bridge.api.requests.at(-1)!;
    const seen = last.req!;
    assert.equal(seen.topK, 2);
    assert.deepEqual(seen.filter, { lang: "xx" });
    assert.ok(last.scope!.deadline > Date.now() && Number.isFinite(last.scope!.deadline), "the deadline travels to the api in the request's scope");
    assert.ok(last.scope!.trace, "so does the trace");

    const unfiltered = (await (await fetch(`${bridge.url}/v1/query`, json({ question: "Who rules the hive?" }))).json()) as {
      answer: string;
      sources: { doc_id: string; chunk_id: string; text: string }[];
    };
    assert.equal(unfiltered.answer, "From hive: A hive holds one queen bee.");
    assert.equal(unfiltered.sources[0]!.doc_id, "hive");
    assert.equal(unfiltered.sources[0]!.chunk_id, "hive#0");
  });

  test("http - a streamed query sends meta, tokens, sources and done as Server-Sent Events", async () => {
    await bridge.api.ingest([{ id: "wax", text: "Bees build comb from wax." }]);
    const res = await fetch(`${bridge.url}/v1/query`, json({ question: "what is comb made of wax", stream: true }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = parseSse(await res.text());
    assert.equal(events[0]!.event, "meta");
    assert.equal((JSON.parse(events[0]!.data) as { session_id: string }).session_id.length > 0, true);
    const tokens = events.filter((e) => e.event === "token").map((e) => (JSON.parse(e.data) as { text: string }).text);
    assert.equal(tokens.join(""), "From wax: Bees build comb from wax.");
    const tail = events.slice(-2);
    assert.equal(tail[0]!.event, "sources");
    assert.equal((JSON.parse(tail[0]!.data) as { sources: { doc_id: string }[] }).sources[0]!.doc_id, "wax");
    assert.equal(tail[1]!.event, "done");
    assert.ok("timings" in (JSON.parse(tail[1]!.data) as object));
  });

  test("http - a stream that fails after it started ends with an error event", async () => {
    bridge.api.streamFailure = { after: 1, error: new ColmenaError("UNAVAILABLE", "llm pool gone") };
    try {
      const res = await fetch(`${bridge.url}/v1/query`, json({ question: "bees", stream: true }));
      assert.equal(res.status, 200);
      const events = parseSse(await res.text());
      const last = events.at(-1)!;
      assert.equal(last.event, "error");
      assert.deepEqual(JSON.parse(last.data), { code: "UNAVAILABLE", message: "llm pool gone" });
    } finally {
      bridge.api.streamFailure = undefined;
    }
  });

  test("http - a stream refused at once gets its status and Retry-After, not an event stream", async () => {
    bridge.api.failNext("queryStream", overloaded("llm mailbox full", 1500));
    const res = await fetch(`${bridge.url}/v1/query`, json({ question: "bees", stream: true }));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await res.json(), { error: { code: "OVERLOADED", message: "llm mailbox full" } });
  });
});

describe("http - cancellation and deadlines", () => {
  test("http - a client disconnecting mid-stream aborts the signal the api received", async () => {
    const bridge = await startBridge();
    try {
      await bridge.api.ingest([{ id: "long", text: "one two three four five six seven eight nine ten" }]);
      bridge.api.stallStreamAfter = 2;
      const controller = new AbortController();
      const res = await request(`${bridge.url}/v1/query`, { ...json({ question: "one two", stream: true }), signal: controller.signal });
      assert.equal(res.statusCode, 200);
      let text = "";
      for await (const chunk of res.body) {
        text += String(chunk);
        if (parseSse(text).filter((e) => e.event === "token").length >= 2) break; // leaving the loop destroys the body
      }
      controller.abort();
      await bridge.api.waitForAborts(1);
      assert.equal(bridge.api.aborted[0]!.op, "queryStream");
      const reason = bridge.api.aborted[0]!.reason as ColmenaError;
      assert.equal(reason.code, "CANCELLED");
    } finally {
      await bridge.close();
    }
  });

  test("http - a request past its deadline answers 504 and aborts the work", async () => {
    const bridge = await startBridge({ requestTimeoutMs: 100 });
    try {
      bridge.api.stallQuery = true;
      const res = await fetch(`${bridge.url}/v1/query`, json({ question: "slow" }));
      assert.equal(res.status, 504);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "TIMEOUT");
      await bridge.api.waitForAborts(1);
      assert.equal((bridge.api.aborted[0]!.reason as ColmenaError).code, "TIMEOUT");
    } finally {
      await bridge.close();
    }
  });

  test("http - a stream past its deadline ends with a TIMEOUT error event", async () => {
    const bridge = await startBridge({ requestTimeoutMs: 150 });
    try {
      await bridge.api.ingest([{ id: "d", text: "alpha beta gamma delta" }]);
      bridge.api.stallStreamAfter = 1;
      const res = await fetch(`${bridge.url}/v1/query`, json({ question: "alpha", stream: true }));
      assert.equal(res.status, 200);
      const events = parseSse(await res.text());
      assert.equal(events.at(-1)!.event, "error");
      assert.equal((JSON.parse(events.at(-1)!.data) as { code: string }).code, "TIMEOUT");
      await bridge.api.waitForAborts(1);
    } finally {
      await bridge.close();
    }
  });
});
