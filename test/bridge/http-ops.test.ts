import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { request } from "undici";
import { json, startBridge, type TestBridge } from "./http-harness.js";

describe("http - operations", () => {
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge();
  });
  after(() => bridge.close());

  test("http - /health is 200 ok", async () => {
    const res = await request(`${bridge.url}/health`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { status: "ok" });
  });

  test("http - /ready is 200 when the system is ready, 503 with the checks when not", async () => {
    const ready = await request(`${bridge.url}/ready`);
    assert.equal(ready.statusCode, 200);
    assert.deepEqual(await ready.body.json(), { ready: true, checks: { nats: true, embedder: true, llm: true }, missing: [], degraded: [] });

    bridge.api.readyReport = { ready: false, checks: { nats: true, llm: false }, missing: ["llm: no node hosts it"], degraded: [] };
    const notReady = await request(`${bridge.url}/ready`);
    assert.equal(notReady.statusCode, 503);
    assert.deepEqual(await notReady.body.json(), { ready: false, checks: { nats: true, llm: false }, missing: ["llm: no node hosts it"], degraded: [] });

    bridge.api.failNext("ready", new Error("nats closed"));
    const failing = await request(`${bridge.url}/ready`);
    assert.equal(failing.statusCode, 503);
    assert.deepEqual((await failing.body.json()) as unknown, { ready: false, checks: {}, missing: ["readiness: nats closed"], degraded: [] });
    bridge.api.readyReport = { ready: true, checks: { nats: true }, missing: [], degraded: [] };
  });

  test("http - /metrics has the request histogram, in-flight requests and the thread's runtime families", async () => {
    await (await request(`${bridge.url}/v1/query`, json({ question: "bees" }))).body.dump();
    await (await request(`${bridge.url}/v1/nowhere`)).body.dump();
    const res = await request(`${bridge.url}/metrics`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/plain/);
    const text = await res.body.text();
    assert.match(text, /# TYPE colmena_http_request_duration_seconds histogram/);
    assert.match(text, /colmena_http_request_duration_seconds_bucket\{le="0\.1",method="POST",route="\/v1\/query",status="200"\} \d+/);
    assert.match(text, /colmena_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/);
    assert.match(text, /colmena_http_requests_in_flight 1/); // the scrape itself
    assert.match(text, /# TYPE colmena_actor_messages_total counter/);
    assert.match(text, /# TYPE colmena_actor_handle_duration_seconds histogram/);
    assert.doesNotMatch(text, /colmena_status/);
  });

  test("http - /v1/status is the system's status as JSON", async () => {
    const res = await request(`${bridge.url}/v1/status`);
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), bridge.api.statusReport);
  });

  test("http - answers are gzip or brotli when the client asks, identity when it does not", async () => {
    const gz = await request(`${bridge.url}/docs/json`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(gz.headers["content-encoding"], "gzip");
    const doc = JSON.parse(gunzipSync(Buffer.from(await gz.body.arrayBuffer())).toString("utf8")) as { openapi: string };
    assert.match(doc.openapi, /^3\./);

    const br = await request(`${bridge.url}/docs/json`, { headers: { "accept-encoding": "br" } });
    assert.equal(br.headers["content-encoding"], "br");
    JSON.parse(brotliDecompressSync(Buffer.from(await br.body.arrayBuffer())).toString("utf8"));

    const plain = await request(`${bridge.url}/docs/json`, { headers: { "accept-encoding": "identity" } });
    assert.equal(plain.headers["content-encoding"], undefined);
    JSON.parse(await plain.body.text());
  });

  test("http - event streams are never compressed", async () => {
    await bridge.api.ingest([{ id: "short", text: "bees hum" }]);
    const res = await request(`${bridge.url}/v1/query`, { ...json({ question: "bees", stream: true }), headers: { "content-type": "application/json", "accept-encoding": "gzip, br" } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-encoding"], undefined);
    assert.match(String(res.headers["content-type"]), /^text\/event-stream/);
    assert.match(await res.body.text(), /event: done/);
  });

  test("http - /docs/json is an OpenAPI 3 document listing every route", async () => {
    const res = await request(`${bridge.url}/docs/json`);
    assert.equal(res.statusCode, 200);
    const doc = (await res.body.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      "POST /v1/documents",
      "GET /v1/documents/{id}",
      "DELETE /v1/documents/{id}",
      "POST /v1/query",
      "POST /v1/chat/completions",
      "POST /v1/embeddings",
      "GET /v1/models",
      "GET /health",
      "GET /ready",
      "GET /metrics",
      "GET /v1/status",
    ]) {
      assert.ok(routes.includes(route), `${route} in ${routes.join(", ")}`);
    }
    assert.ok(doc.paths["/v1/query"]!.post!.requestBody, "request bodies are documented");
  });
});
