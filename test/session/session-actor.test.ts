import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { GenerateEvent, GenerateRequest, LlmBackend } from "../../actors/llm/index.js";
import { llmKind, SequenceSlots } from "../../actors/llm/index.js";
import { sessionKind } from "../../actors/session/index.js";
import type { NatsServer } from "../../nats/index.js";
import { ColmenaError, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { startTestSystem } from "../helpers/system.js";

let server: NatsServer;
const systems: ActorSystem[] = [];

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await Promise.all(systems.map((s) => s.shutdown()));
  await server?.stop();
});

async function system(kinds: Parameters<typeof startTestSystem>[1], nodeId?: string): Promise<ActorSystem> {
  const s = await startTestSystem(server.url, kinds, nodeId ? { nodeId } : {});
  systems.push(s);
  return s;
}

/** A backend that answers every request with `reply` and remembers the requests. */
function answering(reply: string | Error, seen: GenerateRequest[]) {
  return async (): Promise<LlmBackend> => {
    const slots = new SequenceSlots(1, "scripted");
    return {
      id: "scripted",
      device: "cpu",
      fellBackToCpu: false,
      slots,
      circuit: undefined,
      warmUp: async () => {},
      health: async () => ({ models: ["scripted"], servesModel: true }),
      countTokens: (t) => t.split(/\s+/).length,
      close: async () => {},
      async *generate(req): AsyncGenerator<GenerateEvent> {
        seen.push(req);
        if (reply instanceof Error) throw reply;
        slots.take();
        try {
          for (const piece of reply.split(/(?<= )/)) yield { type: "token", text: piece };
          yield { type: "done", reason: "stop", promptTokens: 1, completionTokens: 1 };
        } finally {
          slots.release();
        }
      },
    };
  };
}

test("session - history is bounded, saved after each turn, and restored on a fresh node after passivation", async () => {
  const Session = sessionKind({ idleMs: 150, maxTurns: 2 }, { kind: "session-persist" });
  const a = await system([Session], "session-a");
  const s1 = a.ref(Session, "s-1");
  const source = { docId: "hive.md", chunkId: "hive.md#3", score: 0.8 };
  await s1.ask({ type: "append", question: "What do bees make?", answer: "Honey [1]." });
  await s1.ask({ type: "append", question: "What does the queen bee do?", answer: "She lays the eggs [1].", sources: [source] });
  const third = await s1.ask({ type: "append", question: "How long does she live?", query: "queen bee How long does she live?", answer: "Years [1]." });
  assert.deepEqual(third, { turns: 2, tokens: third.tokens, dropped: 1 });
  assert.deepEqual(await s1.ask({ type: "settings", topK: 3, temperature: 0.2 }), { topK: 3, temperature: 0.2 });

  await waitFor("the idle session passivates", () => a.stats().kinds[0]!.activations.length === 0);
  await a.shutdown();

  const b = await system([Session], "session-b");
  const again = await b.ref(Session, "s-1").ask({ type: "history" });
  assert.deepEqual(
    again.turns.map((t) => [t.question, t.query, t.answer]),
    [
      ["What does the queen bee do?", undefined, "She lays the eggs [1]."],
      ["How long does she live?", "queen bee How long does she live?", "Years [1]."],
    ],
  );
  assert.deepEqual(again.turns[0]?.sources, [source]);
  assert.deepEqual(again.settings, { topK: 3, temperature: 0.2 });
  assert.equal(b.stats().kinds[0]!.activations[0]?.key, "s-1", "restored on the new node");

  // The previous standalone query carries the context forward.
  assert.deepEqual(await b.ref(Session, "s-1").ask({ type: "rewrite", question: "And the drones?" }), {
    query: "queen bee long live And the drones?",
    rewritten: true,
    by: "heuristic",
  });
  assert.deepEqual(await b.ref(Session, "s-1").ask({ type: "clear" }), { cleared: 2 });
  assert.deepEqual((await b.ref(Session, "s-1").ask({ type: "history" })).turns, []);
  assert.deepEqual(await b.ref(Session, "s-1").ask({ type: "rewrite", question: "And the drones?" }), { query: "And the drones?", rewritten: false, by: "none" });
});

test("session - settings are validated, null removes one, reset restores the defaults", async () => {
  const Session = sessionKind({ settings: { topK: 5 } }, { kind: "session-settings" });
  const node = await system([Session]);
  const s = node.ref(Session, "s-2");
  assert.deepEqual((await s.ask({ type: "history" })).settings, { topK: 5 });
  assert.deepEqual(await s.ask({ type: "settings", temperature: 0.7, language: "es" }), { topK: 5, temperature: 0.7, language: "es" });
  assert.deepEqual(await s.ask({ type: "settings", language: null }), { topK: 5, temperature: 0.7 });
  await assert.rejects(s.ask({ type: "settings", temperature: 5 }), (e) => isColmenaError(e, "INVALID"));
  assert.deepEqual(await s.ask({ type: "settings", reset: true, rewrite: false }), { topK: 5, rewrite: false });
  await s.ask({ type: "append", question: "What does the queen bee do?", answer: "Lays eggs." });
  assert.deepEqual(await s.ask({ type: "rewrite", question: "How long does she live?" }), { query: "How long does she live?", rewritten: false, by: "none" });
});

test("session - the llm rewrites follow-ups, and the heuristic stands in when it fails", async () => {
  const seen: GenerateRequest[] = [];
  const Llm = llmKind({}, { kind: "llm-rewriter", createBackend: answering("Standalone query: How long does a queen bee live?\nDone.", seen) });
  const Broken = llmKind({}, { kind: "llm-broken", createBackend: answering(new ColmenaError("UNAVAILABLE", "engine down"), []) });
  const Session = sessionKind({ rewrite: { mode: "llm" } }, { kind: "session-llm", llm: Llm });
  const Fallback = sessionKind({ rewrite: { mode: "llm" } }, { kind: "session-fallback", llm: Broken });
  const node = await system([Llm, Broken, Session, Fallback]);

  const s = node.ref(Session, "s-3");
  assert.deepEqual(await s.ask({ type: "rewrite", question: "What does the queen bee do?" }), { query: "What does the queen bee do?", rewritten: false, by: "none" });
  assert.equal(seen.length, 0, "no history, no llm call");
  await s.ask({ type: "append", question: "What does the queen bee do?", answer: "She lays the eggs." });
  assert.deepEqual(await s.ask({ type: "rewrite", question: "How long does she live?" }), { query: "How long does a queen bee live?", rewritten: true, by: "llm" });
  assert.equal(seen.length, 1);
  assert.equal(seen[0]?.temperature, 0);
  assert.match(seen[0]!.messages.at(-1)!.content, /User: What does the queen bee do\?\nAssistant: She lays the eggs\.\n\nFollow-up question: How long does she live\?/);

  const f = node.ref(Fallback, "s-4");
  await f.ask({ type: "append", question: "What does the queen bee do?", answer: "She lays the eggs." });
  assert.deepEqual(await f.ask({ type: "rewrite", question: "How long does she live?" }), {
    query: "queen bee How long does she live?",
    rewritten: true,
    by: "heuristic",
    fallback: "UNAVAILABLE",
  });
});

test("session - an llm rewrite mode without an llm kind is refused at definition", () => {
  assert.throws(() => sessionKind({ rewrite: { mode: "llm" } }), (e) => isColmenaError(e, "INVALID"));
  assert.throws(() => sessionKind({ maxTurns: 0 }), (e) => isColmenaError(e, "INVALID") && /maxTurns/.test(e.message));
});
