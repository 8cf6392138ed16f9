import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { AnswerCache, findIndex, followIndexVersion, IngestKind, openShardLog, PipelineKind, RagPipeline, shardLogSubject, type AppliedShard, type IndexVersion, type QueryEvent, type QueryResult } from "../../actors/index.js";
import { llmKind } from "../../actors/llm/index.js";
import { sessionKind } from "../../actors/session/index.js";
import { ColmenaConfigSchema } from "../../cli/config.js";
import { startNode, type RunningNode } from "../../cli/node.js";
import type { NatsServer } from "../../nats/index.js";
import { ColmenaError, isColmenaError, loadConfig, type ActorSystem } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitForIngest } from "../helpers/retrieval.js";
import { startTestSystem } from "../helpers/system.js";

/**
 * The pipeline actor on a node with every actor role but the bridge, asked
 * from another node (its messages cross NATS and are checked there), as the
 * bridge of `colmena up` asks it from the main thread.
 */
describe("pipeline actor", () => {
  let server: NatsServer;
  let dataDir: string;
  let node: RunningNode;
  let client: ActorSystem;
  let config: ReturnType<typeof loadConfig<typeof ColmenaConfigSchema>>;
  before(async () => {
    [server, dataDir] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "colmena-pipeline-"))]);
    config = loadConfig(ColmenaConfigSchema, {
      flags: { "nats.servers": server.url, dataDir, roles: ["embedder", "shard", "ingest", "query", "llm", "session"], "log.level": "silent", nodeId: "actors" },
    });
    node = await startNode(config, { version: "0.0.0", log: pino({ level: "silent" }) });
    client = await startTestSystem(server.url, [], { nodeId: "edge" });
    const documents = [
      { id: "queen", text: "The queen bee lays up to two thousand eggs a day in spring.", metadata: { source: "queen.md" } },
      { id: "drones", text: "Drones are male bees; they do not sting and leave the hive to mate.", metadata: { source: "drones.md" } },
    ];
    await client.pool(IngestKind).ask({ type: "ingest", documents, index: "default" });
    await waitForIngest(client, findIndex(config.retrieval.indexes, undefined));
  });
  after(async () => {
    await client?.shutdown();
    await node?.stop();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The pipeline as the node builds it, on the client's storage, with `version` for its index version. */
  const pipelineWith = async (version: IndexVersion): Promise<RagPipeline> =>
    new RagPipeline({
      cache: await AnswerCache.open({ storage: client.storage, clock: client.clock }),
      version,
      llm: llmKind(config.llm),
      session: sessionKind(config.session),
      sessionDefaults: config.session.settings,
      models: async () => ({ embedder: "hash", llm: "extractive" }),
      defaults: { topK: 5, maxNewTokens: 128 },
      log: pino({ level: "silent" }),
    });

  test("answers a question with its sources, then from the cache", async () => {
    const first = await client.pool(PipelineKind).ask({ type: "answer", question: "How many eggs does the queen lay?" }, { timeoutMs: 10_000 });
    assert.equal(first.cached, false);
    assert.equal(first.sources[0]?.docId, "queen");
    assert.match(first.answer, /eggs/);
    const again = await client.pool(PipelineKind).ask({ type: "answer", question: "How many eggs does the queen lay?" }, { timeoutMs: 10_000 });
    assert.equal(again.cached, true);
    assert.equal(again.answer, first.answer);
    const stats = await client.pool(PipelineKind).ask({ type: "stats" });
    assert.ok(stats.l1.hits >= 1);
  });

  test("streams meta, tokens, sources and done", async () => {
    const events: QueryEvent[] = [];
    for await (const e of client.pool(PipelineKind).stream({ type: "stream", question: "Do drones sting?" }, { timeoutMs: 10_000 })) events.push(e);
    assert.equal(events[0]?.type, "meta");
    assert.equal(events.at(-1)?.type, "done");
    assert.ok(events.some((e) => e.type === "token"));
    const sources = events.find((e) => e.type === "sources");
    assert.equal(sources?.type === "sources" && sources.sources[0]?.docId, "drones");
  });

  test("a malformed question is INVALID, and the pipeline goes on answering", async () => {
    const ask = (msg: Record<string, unknown>): Promise<QueryResult> => client.pool(PipelineKind).ask({ type: "answer", question: "?", ...msg } as never, { timeoutMs: 5_000 });
    await assert.rejects(ask({ question: "   " }), (err) => isColmenaError(err, "INVALID") && /question is empty/.test(err.message));
    await assert.rejects(ask({ topK: "ten" }), (err) => isColmenaError(err, "INVALID") && /topK/.test(err.message));
    await assert.rejects(ask({ history: [{ role: "robot", content: "hi" }] }), (err) => isColmenaError(err, "INVALID") && /history/.test(err.message));
    // The session id is a session actor's key: bounded here as at the edge, whoever sends the question.
    await assert.rejects(ask({ sessionId: "s".repeat(5_000) }), (err) => isColmenaError(err, "INVALID") && /sessionId/.test(err.message));
    const ok = await ask({ question: "What does the queen lay?" });
    assert.equal(ok.sources[0]?.docId, "queen");
  });

  test("while the write log cannot say where it stands (retryable), questions are answered without the answer cache; any other failure of it fails them", async () => {
    // The real parts of the node, but an index version that fails as the log's stream does while it elects a leader.
    let failure: Error = new ColmenaError("UNAVAILABLE", "cannot read where colmena_shardlog stands: timeout");
    const version: IndexVersion = { current: () => Promise.reject(failure), covers: async () => true, stop: async () => {} };
    const pipeline = await pipelineWith(version);
    const call = () => ({ refs: client, clock: client.clock, deadline: client.clock.now() + 10_000 });
    for (let i = 0; i < 2; i++) {
      const answer = await pipeline.query({ question: "How many eggs does the queen lay?" }, call());
      assert.equal(answer.cached, false, "nothing is cached or read from the cache without a version");
      assert.equal(answer.sources[0]?.docId, "queen");
    }
    failure = new ColmenaError("INVALID", "not a log");
    await assert.rejects(pipeline.query({ question: "How many eggs does the queen lay?" }, call()), (err) => isColmenaError(err, "INVALID"));
    await pipeline.settled();
  });

  test("an answer from replicas that had yet to apply writes the version counts is not cached; one from replicas that had is", async () => {
    // The node's real version, but told that the log holds writes past those the replicas applied (as right after an ingest).
    const real = await followIndexVersion(client.storage);
    const applied: AppliedShard[][] = [];
    let covered = false;
    const pipeline = await pipelineWith({ current: () => real.current(), covers: async (a) => (applied.push([...a]), covered), stop: () => real.stop() });
    const call = () => ({ refs: client, clock: client.clock, deadline: client.clock.now() + 10_000 });
    try {
      const question = "Do drones sting?";
      for (const expected of [false, false, true]) {
        const answer = await pipeline.query({ question }, call());
        await pipeline.settled();
        assert.equal(answer.cached, expected);
        assert.equal(answer.sources[0]?.docId, "drones");
        covered = true;
      }
      const log = await openShardLog(client.storage);
      const spec = findIndex(config.retrieval.indexes, undefined);
      assert.equal(applied.length, 2, "asked once per answer retrieved");
      assert.deepEqual(applied[0]!.map((a) => a.shard), Array.from({ length: spec.shards }, (_, i) => i));
      for (const a of applied[0]!) assert.equal(a.lastSeq, await log.lastSequenceOn(shardLogSubject(log, spec.name, a.shard)), "each shard's replica had applied its log's end");
      assert.equal(await real.covers(applied[0]!), true, "which the real version says covers the log");
      await log.append(shardLogSubject(log, "elsewhere", 0), { op: "deleteDocument", docId: "none" });
      assert.equal(await real.covers([{ index: "elsewhere", shard: 0, lastSeq: 0 }]), false, "a replica that has not applied a write on its shard does not cover the log");
    } finally {
      await pipeline.settled();
      await real.stop();
    }
  });
});
