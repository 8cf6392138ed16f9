import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { RateLimiter } from "../../bridge/http/rate-limit.js";
import { ManualClock } from "../../runtime/index.js";
import { json, parseSse, startBridge, type TestBridge } from "./http-harness.js";

type ErrorReply = { error: { code: string; message: string } };

describe("http - rate limit", () => {
  let bridge: TestBridge;
  let bridges = 1;
  const clock = new ManualClock(6_000_000);
  before(async () => {
    bridge = await startBridge({ rateLimit: { anonymous: { requestsPerMinute: 4 } }, clock, bridges: () => bridges });
  });
  after(() => bridge.close());

  test("http - past its limit a client gets 429 RATE_LIMITED with Retry-After and RateLimit headers, and recovers as the window slides", async () => {
    for (let i = 0; i < 4; i++) {
      const ok = await request(`${bridge.url}/v1/models`);
      assert.equal(ok.statusCode, 200);
      assert.equal(ok.headers["ratelimit-policy"], '"anonymous";q=4;w=60');
      assert.equal(ok.headers.ratelimit, `"anonymous";r=${3 - i};t=60`);
      await ok.body.dump();
    }
    const limited = await request(`${bridge.url}/v1/models`);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers["retry-after"], "75", "the count moves to the previous window at 60 s and weighs 4 × (1 − x) ≤ 3 from 15 s into the next");
    assert.equal(((await limited.body.json()) as ErrorReply).error.code, "RATE_LIMITED");

    const probe = await request(`${bridge.url}/health`);
    assert.equal(probe.statusCode, 200, "probes are not limited");
    await probe.body.dump();

    clock.advance(75_000); // a quarter into the next window: 4 × 0.75 = 3 counted, room for one
    const again = await request(`${bridge.url}/v1/models`);
    assert.equal(again.statusCode, 200);
    await again.body.dump();
    const full = await request(`${bridge.url}/v1/models`);
    assert.equal(full.statusCode, 429);
    await full.body.dump();
  });

  test("http - with two bridges in the membership each node enforces half the limit", async () => {
    bridges = 2;
    clock.advance(180_000);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await request(`${bridge.url}/v1/models`);
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    assert.deepEqual(statuses, [200, 200, 429, 429]);
  });
});

describe("http - generated tokens per minute", () => {
  let bridge: TestBridge;
  const clock = new ManualClock(6_000_000);
  before(async () => {
    bridge = await startBridge({ rateLimit: { anonymous: { tokensPerMinute: 5 } }, clock });
    bridge.api.documents.set("bees", { text: "bees make honey from nectar in the hive all summer long and keep it for winter", metadata: {} });
  });
  after(() => bridge.close());

  test("http - a streamed answer stops at the budget with a RATE_LIMITED event, and the next request is refused before it starts", async () => {
    const res = await request(`${bridge.url}/v1/query`, json({ question: "what do bees make in the hive?", stream: true }));
    assert.equal(res.statusCode, 200);
    const events = parseSse(await res.body.text());
    assert.equal(events.filter((e) => e.event === "token").length, 5);
    const last = events.at(-1)!;
    assert.equal(last.event, "error");
    assert.equal((JSON.parse(last.data) as { code: string }).code, "RATE_LIMITED");
    assert.equal(events.some((e) => e.event === "done"), false);

    const next = await request(`${bridge.url}/v1/query`, json({ question: "bees?" }));
    assert.equal(next.statusCode, 429);
    assert.ok(Number(next.headers["retry-after"]) >= 1);
    assert.equal(((await next.body.json()) as ErrorReply).error.code, "RATE_LIMITED");
  });

  test("http - a whole answer is charged once known, so the request after it is refused", async () => {
    clock.advance(180_000);
    const first = await request(`${bridge.url}/v1/query`, json({ question: "what do bees make in the hive?" }));
    assert.equal(first.statusCode, 200, "room for a token: the answer is generated");
    assert.ok(((await first.body.json()) as { answer: string }).answer.length > 20);
    const second = await request(`${bridge.url}/v1/chat/completions`, json({ messages: [{ role: "user", content: "bees?" }] }));
    assert.equal(second.statusCode, 429);
    await second.body.dump();
  });
});

describe("rate limiter - sliding window", () => {
  test("rate limiter - any 60 s holds about the limit: the previous minute counts by the part the window still covers", () => {
    const clock = new ManualClock(0);
    const limiter = new RateLimiter({}, clock);
    for (let i = 0; i < 10; i++) assert.equal(limiter.take("a", 10).ok, true);
    assert.deepEqual(limiter.take("a", 10), { ok: false, retryAfterMs: 66_000 }, "next window at 60 s, plus until 10 × (1 − x) ≤ 9");
    assert.equal(limiter.take("b", 10).ok, true, "clients have their own windows");
    clock.advance(60_000 + 30_000); // halfway into the next window: 10 × 0.5 = 5 counted
    let allowed = 0;
    while (limiter.take("a", 10).ok) allowed++;
    assert.equal(allowed, 5);
    clock.advance(120_000);
    allowed = 0;
    while (limiter.take("a", 10).ok) allowed++;
    assert.equal(allowed, 10, "two windows later the old count is gone");
  });

  test("rate limiter - charge counts what was spent, fitting or not", () => {
    const limiter = new RateLimiter({}, new ManualClock(0));
    assert.equal(limiter.charge("a", 10, 8), true);
    assert.equal(limiter.check("a", 10).ok, true);
    assert.equal(limiter.charge("a", 10, 5), false, "13 of 10");
    assert.equal(limiter.check("a", 10).ok, false);
    assert.equal(limiter.take("a", 20).ok, true, "the same window under a larger limit");
  });

  test("rate limiter - the table forgets the least recently seen client past maxClients", () => {
    const limiter = new RateLimiter({ maxClients: 2 }, new ManualClock(0));
    limiter.take("a", 1);
    limiter.take("b", 1);
    limiter.take("a", 1);
    limiter.take("c", 1);
    assert.equal(limiter.clients, 2);
    assert.equal(limiter.take("a", 1).ok, false, "a was seen recently and kept its count");
    assert.equal(limiter.take("b", 1).ok, true, "b was forgotten");
  });
});
