import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { request } from "undici";
import { json, startBridge, type TestBridge } from "./http-harness.js";

describe("http - request log", () => {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  let bridge: TestBridge;
  before(async () => {
    bridge = await startBridge({ log: pino({ level: "info" }, sink) });
  });
  after(() => bridge.close());

  const settle = () => new Promise((r) => setImmediate(r));

  test("http - one info line per request when it ends, with the caller's trace id; none for probes and scrapes", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await request(`${bridge.url}/v1/query`, { ...json({ question: "bees" }), headers: { ...json({}).headers, traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    await res.body.dump();
    for (const path of ["/health", "/ready", "/metrics"]) await (await request(`${bridge.url}${path}`)).body.dump();
    await (await request(`${bridge.url}/v1/nowhere`)).body.dump();
    await settle();
    const requests = lines.filter((l) => l.msg === "request");
    assert.equal(requests.length, 2, JSON.stringify(lines));
    const [query, missing] = requests;
    assert.equal(query!.level, 30);
    assert.equal(query!.method, "POST");
    assert.equal(query!.route, "/v1/query");
    assert.equal(query!.status, 200);
    assert.equal(query!.trace_id, traceId);
    assert.match(String(query!.span_id), /^[0-9a-f]{16}$/);
    assert.notEqual(query!.span_id, "00f067aa0ba902b7", "the bridge's own span, child of the caller's");
    assert.equal(typeof query!.durationMs, "number");
    assert.equal(typeof query!.caller, "string");
    assert.equal(missing!.route, "unmatched");
    assert.equal(missing!.status, 404);
    assert.ok(lines.every((l) => l.msg !== "incoming request" && l.msg !== "request completed"), "fastify's own two lines are gone");
  });

  test("http - an unexpected failure's log line carries the request's trace", async () => {
    lines.length = 0;
    bridge.api.failNext("query", new Error("boom"));
    const res = await request(`${bridge.url}/v1/query`, json({ question: "bees" }));
    assert.equal(res.statusCode, 500);
    const echoed = String(res.headers.traceparent).split("-")[1];
    await res.body.dump();
    await settle();
    const failed = lines.find((l) => l.level === 50);
    assert.ok(failed, JSON.stringify(lines));
    assert.equal(failed.trace_id, echoed);
    assert.ok(lines.filter((l) => l.msg === "request").every((l) => l.trace_id === echoed));
  });
});
