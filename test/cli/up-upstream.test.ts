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

  test("colmena up - when the engine fails, the answer is extractive and marked degraded", async () => {
    peer.mode = { type: "status", status: 503 };
    const res = (await (await post(up.httpUrl, "/v1/query", { question: "What does a stream store?" })).json()) as { answer: string; degraded: boolean };
    assert.equal(res.degraded, true);
    assert.match(res.answer, /stores messages on subjects/);
  });
});
