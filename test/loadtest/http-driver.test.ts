import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { HttpDriver, Recorder, runOpenLoop, type Request } from "../../loadtest/index.js";

/**
 * A scripted fake bridge on node:http: the n-th query takes 100 ms when n % 10
 * is 9, else 10 ms; questions starting "shed" get 429 OVERLOADED with
 * Retry-After, "fail" a 500, "cached" a cached answer.
 */
function fakeBridge(): Server {
  let n = 0;
  return createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.url === "/v1/documents") {
        res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ ids: (JSON.parse(body) as { documents: Array<{ id: string }> }).documents.map((d) => d.id) }));
        return;
      }
      const { question } = JSON.parse(body) as { question: string };
      if (question.startsWith("shed")) {
        res.writeHead(429, { "content-type": "application/json", "retry-after": "1" }).end(JSON.stringify({ error: { code: "OVERLOADED", message: "busy" } }));
        return;
      }
      if (question.startsWith("fail")) {
        res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: "INTERNAL", message: "internal error" } }));
        return;
      }
      const delay = n++ % 10 === 9 ? 100 : 10;
      setTimeout(() => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ answer: "a", sources: [], cached: question.startsWith("cached") })), delay);
    });
  });
}

describe("loadtest http driver", () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = fakeBridge();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test("loadtest http driver - a scripted endpoint's delays come out in its percentiles", async () => {
    const driver = new HttpDriver({ url, connections: 64 });
    const recorder = new Recorder(performance.now());
    await runOpenLoop({ phases: [{ name: "p", durationMs: 2_000, rate: 100 }], driver, next: () => ({ op: "query", body: { question: "q" } }), recorder, maxInFlight: 1_000, requestTimeoutMs: 10_000, drainTimeoutMs: 10_000 });
    await driver.close();
    const s = recorder.summary("p");
    const l = s.ops.query!.ok;
    assert.equal(s.ok, 200);
    // Real timers only add delay, so the scripted times are lower bounds; no upper bound on a shared machine.
    // (The exact arithmetic is tested on a virtual clock in generator.test.ts.)
    assert.ok(l.p50 >= 10, `p50 ${l.p50}`);
    assert.ok(l.p95 >= 100 && l.p99 >= 100, `p95 ${l.p95}, p99 ${l.p99}: the slowest tenth shows in the tail`);
    assert.ok(l.p50 < l.p99, "two modes, not one");
  });

  test("loadtest http driver - shed answers carry their Retry-After, errors their code, queries their cached flag", async () => {
    const driver = new HttpDriver({ url, connections: 8 });
    const questions = ["shed 1", "fail 1", "cached 1", "plain 1"];
    const recorder = new Recorder(performance.now());
    let i = 0;
    const next = (): Request => ({ op: "query", body: { question: questions[i++ % questions.length]! } });
    await runOpenLoop({ phases: [{ name: "p", durationMs: 400, rate: 100 }], driver, next, recorder, maxInFlight: 100, requestTimeoutMs: 10_000, drainTimeoutMs: 10_000 });
    const s = recorder.summary("p");
    assert.deepEqual(Object.keys(s.ops.query!.codes), ["200", "429 OVERLOADED", "500 INTERNAL"]);
    assert.equal(s.shed, 10);
    assert.equal(s.shedWithRetryHint, 10);
    assert.equal(s.errors, 10);
    assert.equal(s.ops.query!.cachedShare, 0.5);
    const ingest = await driver.send({ op: "ingest", body: { documents: [{ id: "d1", text: "t" }] } }, new AbortController().signal);
    assert.deepEqual(ingest, { code: "202", ok: true, shed: false, retryHint: false });
    await driver.close();
  });

  test("loadtest http driver - nothing listening is a client error, not a crash", async () => {
    const driver = new HttpDriver({ url: "http://127.0.0.1:9", connections: 1 });
    const outcome = await driver.send({ op: "query", body: { question: "q" } }, new AbortController().signal);
    await driver.close();
    assert.equal(outcome.ok, false);
    assert.equal(outcome.code, "client ECONNREFUSED");
  });
});
