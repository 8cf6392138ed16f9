import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { Counter, Registry } from "prom-client";
import { startMetricsServer, type MetricsServer } from "../../cli/metrics-server.js";
import type { MetricsSnapshot } from "../../runtime/index.js";

describe("metrics - the metrics port of a node without the bridge", () => {
  // What an actor thread answers: its own registry's snapshot, twice over (two threads) to see them add up.
  const thread = new Registry();
  new Counter({ name: "colmena_test_thread_messages_total", help: "a thread's counter", registers: [thread] }).inc(2);
  const snapshot = async () => (await thread.getMetricsAsJSON()) as MetricsSnapshot;
  let server: MetricsServer;
  before(async () => {
    server = await startMetricsServer({ host: "127.0.0.1", port: 0, threads: [snapshot, snapshot], log: pino({ level: "silent" }) });
  });
  after(() => server.close());

  test("metrics - GET /metrics merges the main thread's families with every thread's", async () => {
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^colmena_test_thread_messages_total 4$/m);
    assert.match(text, /^# TYPE colmena_actor_messages_total counter$/m);
  });

  test("metrics - anything else is 404", async () => {
    const res = await fetch(server.url.replace("/metrics", "/other"));
    assert.equal(res.status, 404);
  });
});
