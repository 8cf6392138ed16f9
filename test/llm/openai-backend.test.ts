import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { createServer } from "node:net";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { GenerateEvent, GenerateRequest } from "../../actors/llm/backend.js";
import { llmKind } from "../../actors/llm/llm-actor.js";
import { OpenAiBackend, type OpenAiBackendOptions } from "../../actors/llm/openai-backend.js";
import { sseData } from "../../actors/llm/sse.js";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";
import { collect } from "./helpers.js";
import { startPeer, type Peer } from "./openai-peer.js";

const messages: GenerateRequest["messages"] = [
  { role: "system", content: "You answer questions about bees." },
  { role: "user", content: "What does the queen do?" },
];
const REPLY = "The königin lays the eggs – about 2000 a day. ";
const live = () => new AbortController().signal;

const peers: Peer[] = [];
let nats: NatsServer | undefined;

after(async () => {
  await Promise.all(peers.map((p) => p.close()));
  await nats?.stop();
});

async function peer(mode: Peer["mode"]): Promise<Peer> {
  const p = await startPeer(mode);
  peers.push(p);
  return p;
}

const backend = (p: Peer, opts: Partial<OpenAiBackendOptions> = {}) => new OpenAiBackend({ baseUrl: p.url, model: "tiny-chat", ...opts });

test("llm openai - sse data survives split chunks, CRLF, comments and multi-line events", async () => {
  const text = ": hello\r\n\r\ndata: {\"a\":\r\ndata: 1}\r\n\r\nevent: x\ndata: é\n\ndata: last";
  const bytes = Buffer.from(text);
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += 3) yield bytes.subarray(i, i + 3);
  }
  const out: string[] = [];
  for await (const d of sseData(chunks())) out.push(d);
  assert.deepEqual(out, ['{"a":\n1}', "é", "last"]);
});

test("llm openai - streams tokens from an OpenAI-compatible engine", async () => {
  const p = await peer({ type: "ok", reply: REPLY });
  const llm = backend(p, { apiKey: "secret" });
  const out = await collect(llm.generate({ messages, maxNewTokens: 64, seed: 3, topK: 5, stop: ["never"] }, live()));
  assert.equal(out.text, REPLY);
  assert.ok(out.tokens.length > 3, "tokens arrive one by one");
  assert.deepEqual(out.done, { type: "done", reason: "stop", promptTokens: 11, completionTokens: REPLY.split(/(?<= )/).length });
  const [req] = p.requests;
  assert.equal(req?.method, "POST");
  assert.equal(req?.path, "/v1/chat/completions");
  assert.equal(req?.headers.authorization, "Bearer secret");
  assert.deepEqual(req?.body, {
    model: "tiny-chat",
    messages,
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 64,
    temperature: 0,
    top_k: 5,
    seed: 3,
    stop: ["never"],
  });
  assert.equal(llm.circuit, "closed");
  assert.deepEqual(await llm.health(), { models: ["tiny-chat"], servesModel: true });
});

test("llm openai - a stop string ends the stream before it; finish_reason length is kept", async () => {
  const p = await peer({ type: "ok", reply: REPLY });
  const stopped = await collect(backend(p).generate({ messages, maxNewTokens: 64, stop: ["eggs"] }, live()));
  assert.equal(stopped.text, "The königin lays the ");
  assert.equal(stopped.done.reason, "stop");
  p.mode = { type: "ok", reply: "one two three ", finish: "length" };
  const cut = await collect(backend(p).generate({ messages, maxNewTokens: 3 }, live()));
  assert.equal(cut.done.reason, "length");
  assert.equal(cut.done.completionTokens, 3);
});

test("llm openai - aborting ends the stream with cancelled and hangs up on the engine", async () => {
  const words = Array.from({ length: 200 }, (_, i) => `w${i} `).join("");
  const p = await peer({ type: "ok", reply: words, chunkDelayMs: 5 });
  const llm = backend(p);
  const controller = new AbortController();
  const seen: GenerateEvent[] = [];
  for await (const e of llm.generate({ messages, maxNewTokens: 500 }, controller.signal)) {
    seen.push(e);
    if (seen.length === 2) controller.abort();
  }
  const done = seen.at(-1);
  assert.ok(done?.type === "done");
  assert.equal(done.reason, "cancelled");
  assert.equal(done.completionTokens, 2);
  assert.equal(seen.filter((e) => e.type === "token").length, 2);
  await p.last.closed;
  assert.equal(p.last.hungUp, true);
  assert.ok(p.last.written < 200, `the engine stopped early (${p.last.written} of 200 chunks)`);
  assert.equal(llm.slots.inFlight, 0, "the slot is free again");
  assert.equal(llm.circuit, "closed", "a cancellation is not an engine failure");
});

test("llm openai - failures open the circuit; a health probe decides when the engine comes back", async () => {
  const p = await peer({ type: "status", status: 500 });
  const warnings: string[] = [];
  const llm = backend(p, { breaker: { consecutiveFailures: 2, halfOpenAfterMs: 150 }, warn: (msg) => warnings.push(msg) });
  const generate = () => collect(llm.generate({ messages, maxNewTokens: 8 }, live()));

  for (let i = 0; i < 2; i++) await assert.rejects(generate(), (e) => isColmenaError(e, "UNAVAILABLE") && /HTTP 500/.test(e.message));
  assert.equal(llm.circuit, "open");
  assert.deepEqual(warnings, ["llm: engine circuit opened"]);

  // Open: refused at once, the engine is not asked.
  await assert.rejects(generate(), (e) => {
    assert.ok(isColmenaError(e, "UNAVAILABLE"), String(e));
    assert.match(e.message, /out of rotation/);
    assert.equal(e.retryable, true);
    assert.ok((e.retryAfterMs ?? 0) > 0);
    return true;
  });
  assert.equal(p.requests.length, 2);

  // Half-open while the engine is still down: the health probe fails and the circuit opens again.
  await sleep(200);
  await assert.rejects(generate(), (e) => isColmenaError(e, "UNAVAILABLE"));
  assert.deepEqual(p.requests.slice(2).map((r) => `${r.method} ${r.path}`), ["GET /v1/models"]);
  assert.equal(llm.circuit, "open");

  // The engine recovers: after the next probe succeeds, requests flow again.
  p.mode = { type: "ok", reply: REPLY };
  await sleep(200);
  const out = await generate();
  assert.equal(out.text, REPLY);
  assert.equal(llm.circuit, "closed");
  assert.deepEqual(p.requests.slice(3).map((r) => `${r.method} ${r.path}`), ["GET /v1/models", "POST /v1/chat/completions"]);
  assert.deepEqual(warnings, ["llm: engine circuit opened", "llm: engine circuit opened", "llm: engine circuit closed"]);
});

test("llm openai - caller errors do not count against the engine; 429 is OVERLOADED with its retry hint", async () => {
  const p = await peer({ type: "status", status: 400 });
  const llm = backend(p, { breaker: { consecutiveFailures: 1 } });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(collect(llm.generate({ messages, maxNewTokens: 8 }, live())), (e) => isColmenaError(e, "INVALID") && /HTTP 400/.test(e.message));
  }
  assert.equal(llm.circuit, "closed");
  p.mode = { type: "status", status: 429, retryAfter: "2" };
  await assert.rejects(collect(llm.generate({ messages, maxNewTokens: 8 }, live())), (e) => isColmenaError(e, "OVERLOADED") && e.retryAfterMs === 2_000);
  assert.equal(llm.circuit, "closed");
});

test("llm openai - a stalled stream is a TIMEOUT and an unreachable engine is UNAVAILABLE", async () => {
  const p = await peer({ type: "stall", reply: REPLY });
  const llm = backend(p, { idleTimeoutMs: 100 });
  const tokens: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const e of llm.generate({ messages, maxNewTokens: 8 }, live())) if (e.type === "token") tokens.push(e.text);
    })(),
    (e) => isColmenaError(e, "TIMEOUT") && /sent nothing/.test(e.message),
  );
  assert.deepEqual(tokens, ["The "]);

  const port = await closedPort();
  const gone = new OpenAiBackend({ baseUrl: `http://127.0.0.1:${port}/v1`, model: "tiny-chat" });
  await assert.rejects(collect(gone.generate({ messages, maxNewTokens: 8 }, live())), (e) => isColmenaError(e, "UNAVAILABLE") && e.retryable);
  await assert.rejects(gone.health(), (e) => isColmenaError(e, "UNAVAILABLE"));
});

test("llm openai - a request lets go of its signals when it ends: no timer left to fire, no listener left on the caller's", async () => {
  const p = await peer({ type: "ok", reply: REPLY });
  // Long enough that a busy machine still answers the check in time; the sleep then outlasts the timeout it set.
  const llm = backend(p, { healthTimeoutMs: 1_000 });
  const sent = await fetchSignals(() => llm.health());
  assert.equal(sent.length, 1);
  await sleep(1_100);
  assert.equal(sent[0]!.aborted, false, "the health check's timeout was cleared when the check ended");

  const caller = new AbortController();
  await collect(llm.generate({ messages, maxNewTokens: 8 }, caller.signal));
  assert.equal(getEventListeners(caller.signal, "abort").length, 0, "after a finished generation");
  p.mode = { type: "status", status: 500 };
  await assert.rejects(collect(llm.generate({ messages, maxNewTokens: 8 }, caller.signal)), (e) => isColmenaError(e, "UNAVAILABLE"));
  assert.equal(getEventListeners(caller.signal, "abort").length, 0, "after a failed one");
});

test("llm openai - the llm actor fronts the engine and shows its circuit", async () => {
  nats ??= await startTestServer();
  const p = await peer({ type: "ok", reply: REPLY });
  const Llm = llmKind({ backend: { type: "openai", baseUrl: p.url, model: "tiny-chat", device: "cuda:1" } }, { kind: "llm-openai" });
  const system = await startTestSystem(nats.url, [Llm]);
  try {
    const pool = system.pool(Llm);
    let text = "";
    for await (const e of pool.stream({ type: "generate", messages, maxNewTokens: 32 })) if (e.type === "token") text += e.text;
    assert.equal(text, REPLY);
    const status = await pool.ask({ type: "status" });
    assert.equal(status.backend, "openai:tiny-chat");
    assert.equal(status.device, "cuda:1");
    assert.equal(status.circuit, "closed");
    assert.equal(status.state, "ready");
    assert.equal(p.requests[0]?.path, "/v1/models", "warming checks the engine's health");
  } finally {
    await system.shutdown();
  }
});

test("llm openai - an engine down at start: the instance is ready with its circuit open, refuses at once, and serves once a probe finds it back", async () => {
  nats ??= await startTestServer();
  const p = await peer({ type: "status", status: 503 });
  const Llm = llmKind(
    {
      backend: { type: "openai", baseUrl: p.url, model: "tiny-chat", maxConcurrent: 2, breaker: { consecutiveFailures: 1, halfOpenAfterMs: 150 } },
      limits: { maxConcurrentSequences: 4 },
    },
    { kind: "llm-openai-down" },
  );
  const system = await startTestSystem(nats.url, [Llm]);
  try {
    const pool = system.pool(Llm);
    const down = await pool.ask({ type: "status" });
    assert.deepEqual([down.state, down.circuit, down.restarts], ["ready", "open", 0], "the warm-up's failed health check opened the circuit and crashed nothing");
    assert.equal(down.maxConcurrentSequences, 2, "no more slots than the engine takes");
    await assert.rejects(collect(pool.stream({ type: "generate", messages, maxNewTokens: 8 })), (e) => {
      assert.ok(isColmenaError(e, "UNAVAILABLE"), String(e));
      assert.match(e.message, /out of rotation/);
      assert.ok(e.retryable && (e.retryAfterMs ?? 0) > 0);
      return true;
    });
    assert.equal(p.requests.length, 1, "an open circuit does not ask the engine");

    p.mode = { type: "ok", reply: Array.from({ length: 50 }, (_, i) => `w${i} `).join(""), chunkDelayMs: 10 };
    await sleep(200);
    const open = pool.stream({ type: "generate", messages, maxNewTokens: 64 })[Symbol.asyncIterator]();
    assert.equal((await open.next()).done, false);
    const serving = await pool.ask({ type: "status" });
    assert.deepEqual([serving.state, serving.circuit, serving.inFlight, serving.restarts], ["ready", "closed", 1, 0]);
    await open.return?.();
    // With a cell slot free, a status may run before the cancel reaches the instance.
    await waitFor("leaving the stream frees its slot", async () => (await pool.ask({ type: "status" })).inFlight === 0);
  } finally {
    await system.shutdown();
  }
});

test("llm openai - a sequence over maxConcurrent is OVERLOADED and does not count against the engine", async () => {
  const p = await peer({ type: "ok", reply: "one two three four five six ", chunkDelayMs: 20 });
  const llm = backend(p, { maxConcurrent: 1, breaker: { consecutiveFailures: 1 } });
  assert.equal(llm.slots.capacity, 1);
  const open = llm.generate({ messages, maxNewTokens: 8 }, live())[Symbol.asyncIterator]();
  assert.equal((await open.next()).done, false);
  assert.equal(llm.slots.inFlight, 1);
  await assert.rejects(collect(llm.generate({ messages, maxNewTokens: 8 }, live())), (e) => isColmenaError(e, "OVERLOADED") && e.retryable);
  assert.equal(llm.circuit, "closed");
  await open.return?.();
  assert.equal(llm.slots.inFlight, 0);
  assert.equal((await collect(llm.generate({ messages, maxNewTokens: 8 }, live()))).done.reason, "stop");
});

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** The signals `fn` hands to fetch: global fetch, wrapped while `fn` runs, still does the request. */
async function fetchSignals(fn: () => Promise<unknown>): Promise<AbortSignal[]> {
  const real = globalThis.fetch;
  const signals: AbortSignal[] = [];
  globalThis.fetch = (input, init) => {
    if (init?.signal) signals.push(init.signal);
    return real(input, init);
  };
  try {
    await fn();
  } finally {
    globalThis.fetch = real;
  }
  return signals;
}
