import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { answered, findCapacity, Recorder, runOpenLoop, type Observation, type Phase, type Request } from "../../loadtest/index.js";
import { FakeDriver, queueingServer, type Script } from "./fake-driver.js";
import { VirtualClock } from "./virtual-clock.js";

const query = (): Request => ({ op: "query", body: { question: "q" } });
/** HDR keeps 3 significant digits: a value may read up to 0.1 % high. */
const near = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${what}: ${actual} ≉ ${expected}`);

async function run(script: Script, phases: Phase[], options: { maxInFlight?: number; requestTimeoutMs?: number; drainTimeoutMs?: number; observe?: (o: Observation) => void } = {}) {
  const clock = new VirtualClock();
  const driver = new FakeDriver(clock, script);
  const recorder = new Recorder(clock.now());
  const result = await clock.run(
    runOpenLoop({
      phases,
      driver,
      next: query,
      recorder,
      clock,
      maxInFlight: options.maxInFlight ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      drainTimeoutMs: options.drainTimeoutMs ?? 60_000,
      ...(options.observe && { observe: options.observe }),
    }),
  );
  return { clock, driver, recorder, result };
}

describe("loadtest generator", () => {
  test("loadtest generator - known delays (10 ms for 90 %, 100 ms for 10 %) give the expected percentiles", async () => {
    const { recorder } = await run((n) => ({ delayMs: n % 10 === 9 ? 100 : 10 }), [{ name: "p", durationMs: 10_000, rate: 100 }]);
    const s = recorder.summary("p");
    const l = s.ops.query!.ok;
    assert.equal(l.count, 1_000);
    near(l.p50, 10, "p50");
    near(l.p90, 10, "p90");
    near(l.p95, 100, "p95");
    near(l.p99, 100, "p99");
    near(l.p999, 100, "p99.9");
    near(l.max, 100, "max");
    near(l.mean, 19, "mean");
    assert.deepEqual(Object.keys(s.ops.query!.codes), ["200"]);
    // The last answer comes 100 ms after the last due time (9 990 ms): 1 000 in 10.09 s.
    near(s.achievedRate, 1_000 / 10.09, "achieved");
    assert.ok(s.achievedRate >= 0.99 * s.offeredRate);
    assert.equal(s.sendLag.max, 0.001); // sent exactly on time (the smallest bucket)
  });

  test("loadtest generator - a stalled endpoint shows as latency of the requests due during the stall, and sending goes on", async () => {
    // The endpoint answers in 10 ms, but holds everything that arrives between 1.0 s and 1.5 s until the stall ends.
    const seen: Observation[] = [];
    const { clock, recorder } = await run(
      (_n, _r, now) => ({ delayMs: now >= 1_000 && now < 1_500 ? 1_500 - now + 10 : 10 }),
      [{ name: "p", durationMs: 3_000, rate: 100 }],
      { observe: (o) => seen.push(o) },
    );
    void clock;
    const s = recorder.summary("p");
    assert.equal(s.sent, 300, "open loop: nothing waits for the stalled answers before sending");
    const stalled = seen.filter((o) => o.dueAt >= 1_000 && o.dueAt < 1_500);
    assert.equal(stalled.length, 50);
    for (const o of stalled) assert.equal(o.latencyMs, 1_510 - o.dueAt, `due at ${o.dueAt}`);
    // Sorted: 250 × 10 ms, then 20, 30, … 510 ms. p99 is the 297th value (the 47th stalled one), p90 the 270th.
    near(s.ops.query!.ok.p99, 480, "p99");
    near(s.ops.query!.ok.p90, 210, "p90");
    near(s.ops.query!.ok.max, 510, "max");
    const second1 = recorder.timeline().find((w) => w.t === 1)!;
    assert.equal(second1.offered, 100);
    near(second1.p99, 500, "p99 of the requests due in the stall's second");
  });

  test("loadtest generator - past the in-flight cap arrivals are dropped by the client and counted, never queued", async () => {
    const { recorder, driver } = await run(() => ({ delayMs: 5_000 }), [{ name: "p", durationMs: 1_000, rate: 100 }], { maxInFlight: 10 });
    const s = recorder.summary("p");
    assert.equal(s.scheduled, 100);
    assert.equal(s.sent, 10);
    assert.equal(driver.count, 10);
    assert.equal(s.dropped, 90);
    assert.equal(s.ok, 10);
  });

  test("loadtest generator - an unanswered request becomes a client timeout, and the drain abandons the rest", async () => {
    const timedOut = await run(() => ({ delayMs: 1e9 }), [{ name: "p", durationMs: 100, rate: 100 }], { requestTimeoutMs: 200 });
    assert.deepEqual(Object.keys(timedOut.recorder.summary("p").ops.query!.codes), ["client timeout"]);
    assert.equal(timedOut.recorder.summary("p").errors, 10);
    near(timedOut.recorder.summary("p").ops.query!.all.max, 200, "a timeout's latency is the timeout");

    const abandoned = await run(() => ({ delayMs: 1e9 }), [{ name: "p", durationMs: 100, rate: 100 }], { drainTimeoutMs: 300 });
    assert.deepEqual(Object.keys(abandoned.recorder.summary("p").ops.query!.codes), ["client abandoned"]);
    assert.equal(abandoned.result.abandoned, 10);
    assert.equal(abandoned.result.endedAt, 90 + 300, "the drain starts at the last due time and lasts 300 ms");
  });

  test("loadtest generator - shed answers, their retry hints and other errors are counted apart", async () => {
    const { recorder } = await run(
      (n) => ({
        delayMs: n % 4 === 3 ? 2 : 20,
        outcome: n % 4 === 3 ? answered(429, "OVERLOADED", { retryHint: n % 8 === 3 }) : n % 4 === 2 ? answered(500, "INTERNAL", { retryHint: false }) : answered(200, undefined, { retryHint: false, cached: n % 4 === 1 }),
      }),
      [{ name: "p", durationMs: 1_000, rate: 80 }],
    );
    const s = recorder.summary("p");
    assert.equal(s.ok, 40);
    assert.equal(s.shed, 20);
    assert.equal(s.shedWithRetryHint, 10);
    assert.equal(s.errors, 20);
    assert.equal(s.ops.query!.cachedShare, 0.5);
    assert.deepEqual(Object.keys(s.ops.query!.codes), ["200", "429 OVERLOADED", "500 INTERNAL"]);
    near(s.shedLatency.p99, 2, "shed latency");
  });

  test("loadtest generator - the capacity search finds the rate a single 10 ms server can keep", async () => {
    const clock = new VirtualClock();
    const driver = new FakeDriver(clock, queueingServer(clock, 10));
    const recorder = new Recorder(clock.now());
    const result = await clock.run(
      findCapacity(
        async (phase, rate) => {
          await runOpenLoop({ phases: [{ name: phase, durationMs: 3_000, rate }], driver, next: query, recorder, clock, maxInFlight: 10_000, requestTimeoutMs: 60_000, drainTimeoutMs: 60_000 });
          await clock.sleep(1_000);
          return recorder.summary(phase);
        },
        { startRate: 20, growth: 1.5, stepMs: 3_000, maxRate: 1_000, refineSteps: 2, p99Factor: 5, p99FloorMs: 50 },
        "",
      ),
    );
    // The truth is 100/s: below it every step keeps up, above it the queue grows for as long as the step lasts.
    assert.ok(result.capacity >= 90 && result.capacity < 100, `capacity ${result.capacity}`);
    for (const s of result.steps) assert.equal(s.pass, s.rate < 100, `${s.rate}/s: ${s.reason}`);
    near(result.referenceP99, 10, "reference p99 below capacity");
  });
});
