import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { NatsQueryShape } from "../../bridge/shapes.js";
import { readDocument } from "../../cli/documents.js";
import { json, startBridge, type TestBridge } from "./http-harness.js";

type ErrorReply = { error: { code: string; message: string } };

describe("text rules - NUL and control characters", () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  const post = async (path: string, body: unknown) => {
    const res = await request(`${bridge.url}${path}`, json(body));
    const reply = (await res.body.json()) as ErrorReply;
    return { status: res.statusCode, code: reply.error?.code, message: reply.error?.message };
  };

  test("text rules - a question, a document or a chat message with NUL or a control character is 400 INVALID naming the field, and nothing is stored", async () => {
    for (const bad of ["who\u0000are you", "bell\u0007", "escape \u001b[31m", "delete\u007f"]) {
      const query = await post("/v1/query", { question: bad });
      assert.deepEqual([query.status, query.code], [400, "INVALID"], JSON.stringify(bad));
      assert.match(query.message!, /body\/question/);
    }
    const doc = await post("/v1/documents", { documents: [{ id: "ok", text: "fine" }, { id: "bad", text: "page\fbreak" }] });
    assert.deepEqual([doc.status, doc.code], [400, "INVALID"]);
    assert.equal(bridge.api.documents.size, 0, "the batch is refused whole");
    const chat = await post("/v1/chat/completions", { messages: [{ role: "user", content: "hi\u0000" }] });
    assert.deepEqual([chat.status, chat.code], [400, "INVALID"]);
    const parts = await post("/v1/chat/completions", { messages: [{ role: "user", content: [{ type: "text", text: "hi\u0000" }] }] });
    assert.deepEqual([parts.status, parts.code], [400, "INVALID"]);
  });

  test("text rules - tabs, line feeds, carriage returns and any printable Unicode pass", async () => {
    const res = await request(`${bridge.url}/v1/documents`, json({ documents: [{ id: "fine", text: "col1\tcol2\r\nlínea — 蜜蜂 🐝" }] }));
    assert.equal(res.statusCode, 202);
    await res.body.dump();
    const query = await request(`${bridge.url}/v1/query`, json({ question: "what\tabout\nbees?" }));
    assert.equal(query.statusCode, 200);
    await query.body.dump();
  });

  test("text rules - the NATS service's shapes hold the same rule", () => {
    assert.equal(NatsQueryShape.safeParse({ question: "a\u0000b" }).success, false);
    assert.equal(NatsQueryShape.safeParse({ question: "a\tb" }).success, true);
  });

  test("text rules - colmena ingest turns control characters in files into spaces", async () => {
    const dir = await mkdtemp(join(tmpdir(), "colmena-text-"));
    try {
      await writeFile(join(dir, "a.txt"), "page one\fpage two\u0000end\n");
      await writeFile(join(dir, "b.html"), "<p>entity &#0;here&#7;</p>");
      assert.equal((await readDocument(join(dir, "a.txt"), dir)).text, "page one page two end\n");
      assert.equal((await readDocument(join(dir, "b.html"), dir)).text, "entity \uFFFDhere ", "the parser makes &#0; U+FFFD, as HTML says; &#7; is a control character");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
