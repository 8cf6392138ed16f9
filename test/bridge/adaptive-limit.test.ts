import assert from "node:assert/strict";
import { test } from "node:test";
import { AdaptiveLimit } from "../../bridge/http/adaptive-limit.js";

const options = { initialLimit: 20, minLimit: 4, maxLimit: 200, tolerance: 1.5, baselineMs: 30_000 };

/** A limit on a virtual clock that `drive` advances by each wave's response time. */
function limited() {
  const clock = { now: 0 };
  return { clock, limit: new AdaptiveLimit(options, () => clock.now) };
}

/** Runs `rounds` full waves of requests at the limit, each taking `rtt(admitted)` ms; answers the last wave's response time. */
function drive({ clock, limit }: ReturnType<typeof limited>, rounds: number, rtt: (inFlight: number) => number): number {
  let last = 0;
  for (let r = 0; r < rounds; r++) {
    let taken = 0;
    while (limit.tryAcquire()) taken++;
    last = rtt(taken);
    clock.now += last;
    for (let i = 0; i < taken; i++) limit.release(last);
  }
  return last;
}

/** A server that serves `parallel` requests at a time in `serviceMs`; more admitted work waits in line. */
const server = (serviceMs: number, parallel: number) => (inFlight: number) => serviceMs * Math.max(1, inFlight / parallel);

test("adaptive limit - refuses past the limit and admits again after a release", () => {
  const { limit } = limited();
  for (let i = 0; i < 20; i++) assert.ok(limit.tryAcquire());
  assert.equal(limit.tryAcquire(), false);
  limit.release(10);
  assert.ok(limit.tryAcquire());
});

test("adaptive limit - grows while latency holds steady", () => {
  const l = limited();
  drive(l, 50, () => 10);
  assert.ok(l.limit.limit > 40, `limit ${l.limit.limit}`);
  assert.ok(l.limit.limit <= options.maxLimit);
  assert.equal(l.limit.baselineMs, 10);
});

test("adaptive limit - shrinks when latency grows with the work admitted (queueing), but not below its minimum", () => {
  const l = limited();
  drive(l, 30, () => 10);
  const before = l.limit.limit;
  drive(l, 3, server(10, 8));
  assert.ok(l.limit.limit < before / 2, `limit went from ${before} to ${l.limit.limit}`);
  assert.ok(l.limit.limit >= options.minLimit);
  assert.ok(l.limit.retryAfterMs() >= 1);
});

test("adaptive limit - holds latency near the unloaded one through a long overload, instead of learning the queueing as normal", () => {
  const l = limited();
  drive(l, 300, () => 10); // 3 s unloaded
  // 20 s of more demand than the server can take: 8 requests in parallel, the rest queue.
  let rtt = 0;
  let worst = 0;
  for (let waves = 0; l.clock.now < 23_000; waves++) {
    rtt = drive(l, 1, server(10, 8));
    if (l.clock.now > 5_000) worst = Math.max(worst, rtt);
  }
  assert.ok(worst <= 2 * options.tolerance * 10, `response time reached ${worst} ms (unloaded 10 ms)`);
  assert.ok(l.limit.limit >= 8, `limit ${l.limit.limit}: the server's parallelism stays in use`);
  assert.equal(l.limit.baselineMs, 10, "the unloaded latency is remembered");
});

test("adaptive limit - forgets an old baseline after its window, so a lasting change of workload is learned", () => {
  const l = limited();
  drive(l, 300, () => 10);
  drive(l, 3_500, () => 40); // 140 s of a slower workload, not queueing
  assert.equal(l.limit.baselineMs, 40);
});

test("adaptive limit - after an overload, fast work below the limit lets it grow back to the initial limit, not past it", () => {
  const l = limited();
  drive(l, 300, () => 10);
  drive(l, 200, server(10, 4));
  const cut = l.limit.limit;
  assert.ok(cut < options.initialLimit, `limit ${cut} after the overload`);
  for (let i = 0; i < 5_000; i++) {
    assert.ok(l.limit.tryAcquire());
    l.clock.now += 10;
    l.limit.release(10); // one request at a time: far below the limit
  }
  assert.equal(l.limit.limit, options.initialLimit);
});

test("adaptive limit - a request its client left gives its slot back and teaches the limit nothing", () => {
  const lab = limited();
  drive(lab, 50, server(10, 20));
  const [before, baseline] = [lab.limit.limit, lab.limit.baselineMs];
  while (lab.limit.tryAcquire());
  for (let i = 0; i < before; i++) lab.limit.abandon();
  assert.equal(lab.limit.inFlight, 0);
  assert.deepEqual([lab.limit.limit, lab.limit.baselineMs], [before, baseline]);
});
