import assert from "node:assert/strict";
import { connect } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { retryAfterSeconds, statusOf } from "../../bridge/index.js";
import { ColmenaError, ERROR_CODES } from "../../runtime/index.js";
import { json, startBridge, type TestBridge } from "./http-harness.js";

type ErrorReply = { error: { code: string; message: string } };

describe("http - bad requests", () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge({ bodyLimit: 4096 });
  });
  after(() => bridge.close());

  const post = (path: string, body: string | Buffer, contentType = "application/json") =>
    request(`${bridge.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

  test("http - malformed JSON is a 400 INVALID", async () => {
    const res = await post("/v1/query", '{"question": "bees"');
    assert.equal(res.statusCode, 400);
    assert.deepEqual(await res.body.json(), { error: { code: "INVALID", message: "the body is not valid JSON" } });
  });

  test("http - wrong types and unknown fields are 400 INVALID naming the field", async () => {
    const wrongType = await post("/v1/query", JSON.stringify({ question: 42 }));
    assert.equal(wrongType.statusCode, 400);
    const a = (await wrongType.body.json()) as ErrorReply;
    assert.equal(a.error.code, "INVALID");
    assert.match(a.error.message, /question/);

    const unknown = await post("/v1/query", JSON.stringify({ question: "bees", topK: 3 }));
    assert.equal(unknown.statusCode, 400);
    assert.match(((await unknown.body.json()) as ErrorReply).error.message, /topK/);

    const badTopK = await post("/v1/query", JSON.stringify({ question: "bees", top_k: "3" }));
    assert.equal(badTopK.statusCode, 400, "no silent type coercion");
    await badTopK.body.dump();

    const noDocs = await post("/v1/documents", JSON.stringify({ documents: [] }));
    assert.equal(noDocs.statusCode, 400);
    await noDocs.body.dump();

    const badSession = await post("/v1/query", JSON.stringify({ question: "bees", session_id: "a.b c" }));
    assert.equal(badSession.statusCode, 400);
    await badSession.body.dump();

    const tokens = await post("/v1/embeddings", JSON.stringify({ input: [[1, 2, 3]], model: "m" }));
    assert.equal(tokens.statusCode, 400, "token arrays are not accepted");
    await tokens.body.dump();

    const query = await request(`${bridge.url}/v1/models?limit=3`);
    assert.equal(query.statusCode, 400, "query strings are validated too");
    await query.body.dump();
  });

  test("http - a body over the limit is a 413 TOO_LARGE, with or without Content-Length", async () => {
    const big = JSON.stringify({ question: "x".repeat(8000) });
    const sized = await post("/v1/query", big);
    assert.equal(sized.statusCode, 413);
    assert.equal(((await sized.body.json()) as ErrorReply).error.code, "TOO_LARGE");

    const chunked = await request(`${bridge.url}/v1/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Readable.from((function* () {
        for (let i = 0; i < 8; i++) yield Buffer.from("x".repeat(1024));
      })()),
    });
    assert.equal(chunked.statusCode, 413);
    assert.equal(((await chunked.body.json()) as ErrorReply).error.code, "TOO_LARGE");
  });

  test("http - invalid UTF-8 in the body is a 400 INVALID", async () => {
    const bytes = Buffer.concat([Buffer.from('{"question": "bad '), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const res = await post("/v1/query", bytes);
    assert.equal(res.statusCode, 400);
    assert.deepEqual(await res.body.json(), { error: { code: "INVALID", message: "the body is not valid UTF-8" } });
    assert.equal(bridge.api.requests.length, 0, "nothing reached the api");
  });

  test("http - unknown routes are 404 NOT_FOUND, other media types 415", async () => {
    const res = await request(`${bridge.url}/v1/nope`);
    assert.equal(res.statusCode, 404);
    assert.deepEqual(await res.body.json(), { error: { code: "NOT_FOUND", message: "no route GET /v1/nope" } });

    const form = await post("/v1/query", "question=bees", "application/x-www-form-urlencoded");
    assert.equal(form.statusCode, 415);
    assert.equal(((await form.body.json()) as ErrorReply).error.code, "INVALID");
    // fastify parses text/plain by default; the bridge takes JSON only.
    const text = await post("/v1/query", '{"question":"bees"}', "text/plain");
    assert.equal(text.statusCode, 415);
    assert.equal(((await text.body.json()) as ErrorReply).error.code, "INVALID");
  });

  test("http - garbage on the socket gets 400 and the server keeps serving", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(bridge.port, "127.0.0.1", () => socket.end("NOT HTTP AT ALL\r\n\r\n"));
      let data = "";
      socket.on("data", (d) => (data += String(d)));
      socket.on("end", () => resolve(data));
      socket.on("error", reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400/);
  });

  test("http - after every bad request the server still answers", async () => {
    const health = await request(`${bridge.url}/health`);
    assert.deepEqual(await health.body.json(), { status: "ok" });
    await bridge.api.ingest([{ id: "ok", text: "still serving bees" }]);
    const res = await post("/v1/query", JSON.stringify({ question: "serving bees?" }));
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { answer: string }).answer, "From ok: still serving bees");
  });
});

describe("http - error codes to statuses", () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  const cases: [ColmenaError | Error, number, string | null][] = [
    [new ColmenaError("INVALID", "bad filter"), 400, null],
    [new ColmenaError("NOT_FOUND", "no such index"), 404, null],
    [new ColmenaError("TOO_LARGE", "prompt too long"), 413, null],
    [new ColmenaError("OVERLOADED", "full", { retryAfterMs: 1001 }), 429, "2"],
    [new ColmenaError("OVERLOADED", "full, no hint"), 429, "1"],
    [new ColmenaError("UNAVAILABLE", "no llm", { retryAfterMs: 250 }), 503, "1"],
    [new ColmenaError("TIMEOUT", "shards late"), 504, null],
    [new ColmenaError("CANCELLED", "cancelled"), 499, null],
    [new ColmenaError("CONFLICT", "lost a race"), 500, null],
    [new ColmenaError("INTERNAL", "bug"), 500, null],
  ];
  for (const [error, status, retryAfter] of cases) {
    const code = error instanceof ColmenaError ? error.code : "Error";
    test(`http - ${code} from the api answers ${status}${retryAfter ? " with Retry-After" : ""}`, async () => {
      bridge.api.failNext("query", error);
      const res = await request(`${bridge.url}/v1/query`, json({ question: "q" }));
      assert.equal(res.statusCode, status);
      assert.equal(res.headers["retry-after"], retryAfter ?? undefined);
      assert.deepEqual(await res.body.json(), { error: { code, message: error.message } });
    });
  }

  test("http - an unexpected error is a bare 500 INTERNAL: no message, no stack", async () => {
    const secret = new TypeError("cannot read properties of undefined (reading 'secret')");
    bridge.api.failNext("getDocument", secret);
    const res = await request(`${bridge.url}/v1/documents/x`);
    assert.equal(res.statusCode, 500);
    const text = await res.body.text();
    assert.deepEqual(JSON.parse(text), { error: { code: "INTERNAL", message: "internal error" } });
    assert.doesNotMatch(text, /secret|at /);
  });

  test("http - status mapping covers every wire code", () => {
    const expected: Record<string, number> = { INVALID: 400, NOT_FOUND: 404, TIMEOUT: 504, OVERLOADED: 429, UNAVAILABLE: 503, CANCELLED: 499, TOO_LARGE: 413 };
    for (const code of ERROR_CODES) assert.equal(statusOf(code), expected[code] ?? 500, code);
    assert.equal(statusOf("UNAUTHORIZED"), 401);
    assert.equal(statusOf("RATE_LIMITED"), 429);
    assert.equal(retryAfterSeconds(undefined), 1);
    assert.equal(retryAfterSeconds(0), 1);
    assert.equal(retryAfterSeconds(1000), 1);
    assert.equal(retryAfterSeconds(1001), 2);
  });
});
