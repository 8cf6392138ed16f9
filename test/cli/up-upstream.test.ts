import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";
import { startPeer, type Peer } from "../llm/openai-peer.js";

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** `colmena up` with an OpenAI-compatible engine behind the llm pool: a real HTTP peer that streams slowly or fails on demand. */
describe("colmena up - with an upstream engine", () => {
  let peer: Peer;
  let up: ColmenaProcess;
  before(async () => {
    peer = await startPeer({ type: "ok", reply: "Streams keep messages." });
    const config = join(tmpdir(), `colmena-upstream-${process.pid}.json`);
    await writeFile(config, JSON.stringify({ llm: { backend: { type: "openai", baseUrl: peer.url, model: "tiny-chat", breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } } } }));
    up = await startColmenaUp(["--config", config]);
    assert.equal((await post(up.httpUrl, "/v1/documents", { documents: [{ id: "s", text: "A stream stores messages on subjects." }] })).status, 202);
  });
  after(async () => {
    assert.equal(await up?.stop(), 0);
    await peer?.close();
  });

  test("colmena up - the answer comes from the engine", async () => {
    const res = (await (await post(up.httpUrl, "/v1/query", { question: "What do streams keep?" })).json()) as { answer: string; degraded: boolean };
    assert.equal(res.answer, "Streams keep messages.");
    assert.equal(res.degraded, false);
  });

  test("colmena up - a client that disconnects mid-stream stops the generation behind it", async () => {
    peer.mode = { type: "ok", reply: Array.from({ length: 2_000 }, (_, i) => `w${i}`).join(" "), chunkDelayMs: 10 };
    const res = await post(up.httpUrl, "/v1/query", { question: "Tell me everything about streams, at length", stream: true });
    const reader = res.body!.getReader();
    let seen = "";
    while (!seen.includes("event: token")) seen += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    await peer.last.closed;
    assert.equal(peer.last.hungUp, true, "the engine's stream was closed before its end");
    assert.ok(peer.last.written < 2_000, `the engine wrote ${peer.last.written} of 2000 chunks`);
  });

  test("colmena up - when the engine fails, the answer is extractive and marked degraded, and /ready shows it without failing", async () => {
    const before = await readiness(up.httpUrl);
    assert.equal(before.status, 200, JSON.stringify(before.body));
    assert.deepEqual([before.body.missing, before.body.degraded], [[], []]);
    for (const check of ["nats", "jetstream", "faults", "lease", "embedder", "index-shard", "llm", "pipeline", "shards:default", "llm-engine"]) assert.equal(before.body.checks[check], true, check);

    peer.mode = { type: "status", status: 503 };
    const res = (await (await post(up.httpUrl, "/v1/query", { question: "What does a stream store?" })).json()) as { answer: string; degraded: boolean };
    assert.equal(res.degraded, true);
    assert.match(res.answer, /stores messages on subjects/);

    // One failure opens this breaker: the engine is down, answers degrade, and the node stays ready (pipeline.readyWhenDegraded, by default).
    const after = await readiness(up.httpUrl);
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.checks["llm-engine"], false);
    assert.deepEqual(after.body.missing, []);
    assert.deepEqual(after.body.degraded, ["llm-engine: the engine's circuit is open"]);
  });
});

test("colmena up - with pipeline.readyWhenDegraded false, an engine that is down makes /ready 503 naming it", async () => {
  const peer = await startPeer({ type: "status", status: 503 });
  const config = join(tmpdir(), `colmena-upstream-strict-${process.pid}.json`);
  await writeFile(config, JSON.stringify({ llm: { backend: { type: "openai", baseUrl: peer.url, model: "tiny-chat", breaker: { consecutiveFailures: 1, halfOpenAfterMs: 60_000 } } } }));
  const up = await startColmenaUp(["--config", config, "--set", "pipeline.readyWhenDegraded=false"]);
  try {
    // The warm-up's health check finds the engine down and opens the circuit (the instance itself is ready).
    let ready = await readiness(up.httpUrl);
    for (let i = 0; i < 100 && ready.body.checks["llm-engine"] !== false; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await readiness(up.httpUrl);
    }
    assert.equal(ready.status, 503, JSON.stringify(ready.body));
    assert.equal(ready.body.ready, false);
    assert.deepEqual(ready.body.missing, ["llm-engine: the engine's circuit is open"]);
    assert.deepEqual(ready.body.degraded, []);
  } finally {
    assert.equal(await up.stop(), 0);
    await peer.close();
  }
});

async function readiness(base: string): Promise<{ status: number; body: { ready: boolean; checks: Record<string, boolean>; missing: string[]; degraded: string[] } }> {
  const res = await fetch(`${base}/ready`);
  return { status: res.status, body: (await res.json()) as never };
}
