import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { request } from "undici";
import { RateLimiter } from "../../bridge/http/rate-limit.js";
import { ManualClock } from "../../runtime/index.js";
import { startBridge, type TestBridge } from "./http-harness.js";

type ErrorReply = { error: { code: string; message: string } };

describe("http - API keys", () => {
  let bridge: TestBridge;
  const key = "sk-colmena-test-key";
  before(async () => {
    bridge = await startBridge({ apiKeys: [key, "another-key-000"] });
  });
  after(() => bridge.close());

  test("http - /v1 without a key or with a wrong one is 401 UNAUTHORIZED", async () => {
    for (const headers of [{}, { authorization: "Bearer wrong-key-123" }, { "x-api-key": "sk-colmena-test-ke" }, { authorization: `Basic ${key}` }]) {
      const res = await request(`${bridge.url}/v1/models`, { headers });
      assert.equal(res.statusCode, 401, JSON.stringify(headers));
      assert.equal(((await res.body.json()) as ErrorReply).error.code, "UNAUTHORIZED");
    }
  });

  test("http - Bearer and X-API-Key both pass; probes need no key", async () => {
    const bearer = await request(`${bridge.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    assert.equal(bearer.statusCode, 200);
    await bearer.body.dump();
    const header = await request(`${bridge.url}/v1/models`, { headers: { "x-api-key": "another-key-000" } });
    assert.equal(header.statusCode, 200);
    await header.body.dump();
    for (const path of ["/health", "/ready", "/metrics", "/docs/json"]) {
      const res = await request(`${bridge.url}${path}`);
      assert.equal(res.statusCode, 200, path);
      await res.body.dump();
    }
  });

  test("http - the openai client authenticates with its apiKey", async () => {
    const client = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: key, maxRetries: 0 });
    const models = await client.models.list();
    assert.equal(models.data.length, 2);
    const wrong = new OpenAI({ baseURL: `${bridge.url}/v1`, apiKey: "nope-nope-nope", maxRetries: 0 });
    await assert.rejects(wrong.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
  });

  test("http - keys shorter than 8 characters stop start-up naming the option", async () => {
    await assert.rejects(startBridge({ apiKeys: ["short"] }), /http\.apiKeys\.0/);
  });
});

describe("http - rate limit", () => {
  let bridge: TestBridge;
  const clock = new ManualClock(1_000_000);
  before(async () => {
    bridge = await startBridge({ rateLimit: { capacity: 2, refillPerSecond: 1 }, clock });
  });
  after(() => bridge.close());

  test("http - past its bucket a client gets 429 RATE_LIMITED with Retry-After, and recovers as tokens refill", async () => {
    for (let i = 0; i < 2; i++) {
      const ok = await request(`${bridge.url}/v1/models`);
      assert.equal(ok.statusCode, 200);
      await ok.body.dump();
    }
    const limited = await request(`${bridge.url}/v1/models`);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers["retry-after"], "1");
    assert.equal(((await limited.body.json()) as ErrorReply).error.code, "RATE_LIMITED");

    const probe = await request(`${bridge.url}/health`);
    assert.equal(probe.statusCode, 200, "probes are not limited");
    await probe.body.dump();

    clock.advance(1000);
    const again = await request(`${bridge.url}/v1/models`);
    assert.equal(again.statusCode, 200);
    await again.body.dump();
  });
});

describe("rate limiter - token buckets", () => {
  test("rate limiter - a bucket refills at its rate up to its capacity", () => {
    const clock = new ManualClock();
    const limiter = new RateLimiter({ capacity: 3, refillPerSecond: 2 }, clock);
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("a"), { ok: true });
    assert.deepEqual(limiter.take("a"), { ok: false, retryAfterMs: 500 });
    assert.deepEqual(limiter.take("b"), { ok: true }, "clients have their own buckets");
    clock.advance(250);
    assert.deepEqual(limiter.take("a"), { ok: false, retryAfterMs: 250 });
    clock.advance(250);
    assert.deepEqual(limiter.take("a"), { ok: true });
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) assert.deepEqual(limiter.take("a"), { ok: true });
    assert.equal(limiter.take("a").ok, false, "never more than the capacity");
  });

  test("rate limiter - the table forgets the least recently seen client past maxClients", () => {
    const limiter = new RateLimiter({ capacity: 1, refillPerSecond: 1, maxClients: 2 }, new ManualClock());
    limiter.take("a");
    limiter.take("b");
    limiter.take("a");
    limiter.take("c");
    assert.equal(limiter.clients, 2);
    assert.equal(limiter.take("a").ok, false, "a was seen recently and kept its empty bucket");
    assert.equal(limiter.take("b").ok, true, "b was forgotten");
  });
});
