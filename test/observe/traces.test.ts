import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { tracing } from "@opentelemetry/sdk-node";
import { pino } from "pino";
import { CoordinatorKind } from "../../actors/index.js";
import { ColmenaConfigSchema } from "../../cli/config.js";
import { startNode, type RunningNode } from "../../cli/node.js";
import { startTelemetry, type Telemetry } from "../../cli/telemetry.js";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError, loadConfig, newTrace, SpanKind } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

type ReadableSpan = tracing.ReadableSpan;

/**
 * One question's spans, recorded by the real SDK (the CLI's bootstrap with an
 * in-memory exporter) across two nodes on a real nats-server: an edge node
 * with the bridge, and a node with every actor role, so each hop between
 * them crosses NATS with its `traceparent`, as between the bridge thread
 * and the actor thread of `colmena up`.
 */
describe("traces - one question across the bridge and every actor it touches", () => {
  const exporter = new tracing.InMemorySpanExporter();
  const lines: Record<string, unknown>[] = [];
  let server: NatsServer;
  let dataDir: string;
  let actors: RunningNode;
  let edge: RunningNode;
  let telemetry: Telemetry | undefined;
  let url: string;

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

  /** The spans of one trace once its HTTP server span has ended (the last to end: at the response's close). */
  const traceOf = async (traceId: string): Promise<ReadableSpan[]> => {
    await waitFor("the trace's server span has ended", () => exporter.getFinishedSpans().some((s) => s.spanContext().traceId === traceId && s.kind === SpanKind.SERVER), 30_000);
    return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
  };

  before(async () => {
    telemetry = await startTelemetry({}, { nodeId: "test", version: "0.0.0", spanProcessors: [new tracing.SimpleSpanProcessor(exporter)] });
    [server, dataDir] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "colmena-traces-"))]);
    const config = (nodeId: string, roles: string[]) =>
      loadConfig(ColmenaConfigSchema, { flags: { "nats.servers": server.url, dataDir: join(dataDir, nodeId), roles, "log.level": "info", nodeId, "http.port": 0 } });
    const capture = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const log = pino({ level: "info" }, capture);
    actors = await startNode(config("actors", ["embedder", "shard", "ingest", "query", "llm", "session"]), { version: "0.0.0", log: pino({ level: "silent" }) });
    edge = await startNode(config("edge", ["bridge"]), { version: "0.0.0", log });
    url = edge.httpUrl!;
    assert.equal((await post("/v1/documents", { documents: [{ id: "queen", text: "The queen bee lays up to two thousand eggs a day in spring." }] })).status, 202);
    await waitFor("the document is indexed", async () => ((await (await post("/v1/query", { question: "How many eggs does the queen lay?" })).json()) as { sources: unknown[] }).sources.length > 0, 60_000);
  });
  after(async () => {
    await edge?.stop();
    await actors?.stop();
    await telemetry?.shutdown();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test("traces - the span tree of a question: names, kinds, parents and attributes under the caller's trace", async () => {
    const caller = newTrace();
    const res = await post("/v1/query", { question: "When does the queen lay eggs?", session_id: "beekeeper-1" }, { traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
    assert.equal(res.status, 200);
    await res.json();
    // The response names the bridge's span, in the caller's trace.
    assert.match(res.headers.get("traceparent") ?? "", new RegExp(`^00-${caller.traceId}-[0-9a-f]{16}-01$`));
    const spans = await traceOf(caller.traceId);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

    // One root here, the bridge's server span, child of the caller's span; every other span's parent is in the trace.
    const server = spans.filter((s) => s.kind === SpanKind.SERVER);
    assert.equal(server.length, 1);
    assert.equal(server[0]!.name, "POST /v1/query");
    assert.equal(parentOf(server[0]!), caller.spanId);
    assert.equal(server[0]!.attributes["http.route"], "/v1/query");
    assert.equal(server[0]!.attributes["http.response.status_code"], 200);
    for (const s of spans) if (s !== server[0]) assert.ok(byId.has(parentOf(s)!), `${s.name}: its parent is in the trace`);

    // Every consumer span is the child of a producer span of the same destination: the hop, sender and receiver.
    const consumers = spans.filter((s) => s.kind === SpanKind.CONSUMER);
    for (const c of consumers) {
      const p = byId.get(parentOf(c)!)!;
      assert.equal(p.kind, SpanKind.PRODUCER, c.name);
      assert.equal(p.attributes["messaging.destination.template"], c.attributes["messaging.destination.template"]);
      assert.equal(c.attributes["messaging.system"], "nats");
      assert.equal(c.attributes["messaging.system.name"], "nats");
      assert.equal(c.attributes["messaging.operation.name"], "process");
    }
    const consumerOf = (kind: string) => consumers.filter((c) => c.attributes["colmena.actor.kind"] === kind);
    /** The nearest consumer span above `s`: the actor whose handling `s` belongs to. */
    const handlerOf = (s: ReadableSpan): string | undefined => {
      for (let p = byId.get(parentOf(s)!); p; p = byId.get(parentOf(p)!)) if (p.kind === SpanKind.CONSUMER) return p.attributes["colmena.actor.kind"] as string;
      return undefined;
    };

    // bridge -> pipeline -> session, coordinator -> embedder, shards; pipeline -> llm.
    const pipeline = consumerOf("pipeline");
    assert.equal(pipeline.length, 1);
    assert.equal(byId.get(parentOf(byId.get(parentOf(pipeline[0]!)!)!)!), server[0], "the pipeline's hop starts under the bridge's span");
    for (const kind of ["session", "query-coordinator", "llm"]) {
      assert.ok(consumerOf(kind).length >= 1, kind);
      for (const c of consumerOf(kind)) assert.equal(handlerOf(c), "pipeline", `${kind} is asked by the pipeline`);
    }
    for (const kind of ["embedder", "index-shard"]) {
      assert.ok(consumerOf(kind).length >= 1, kind);
      for (const c of consumerOf(kind)) assert.equal(handlerOf(c), "query-coordinator", `${kind} is asked by the coordinator`);
    }
    // Keyed subjects keep their key out of the template.
    const session = consumerOf("session")[0]!;
    assert.match(String(session.attributes["messaging.destination.name"]), /\.keyed\.session\.beekeeper-1$/);
    assert.match(String(session.attributes["messaging.destination.template"]), /\.keyed\.session\.\{key\}$/);
    assert.equal(session.name, `process ${String(session.attributes["messaging.destination.template"])}`);

    // Stage spans, each under the actor that does the work, with their figures.
    const stage = (name: string) => spans.filter((s) => s.name === name && s.kind === SpanKind.INTERNAL);
    assert.equal(handlerOf(stage("cache lookup")[0]!), "pipeline");
    assert.equal(stage("cache lookup")[0]!.attributes["colmena.cache.hit"], false);
    assert.equal(handlerOf(stage("embed")[0]!), "embedder");
    assert.ok(Number(stage("embed")[0]!.attributes["colmena.embed.batch_size"]) >= 1);
    const searches = stage("shard search");
    assert.equal(searches.length, consumerOf("index-shard").length);
    for (const s of searches) {
      assert.equal(handlerOf(s), "index-shard");
      assert.equal(typeof s.attributes["colmena.shard"], "number");
      assert.equal(typeof s.attributes["colmena.shard.hits"], "number");
    }
    assert.equal(handlerOf(stage("fuse")[0]!), "query-coordinator");
    const generate = stage("generate")[0]!;
    assert.equal(handlerOf(generate), "llm");
    assert.equal(typeof generate.attributes["gen_ai.request.model"], "string");
    assert.ok(Number(generate.attributes["gen_ai.usage.input_tokens"]) > 0);
    assert.ok(Number(generate.attributes["gen_ai.usage.output_tokens"]) > 0);
    assert.ok(Number(generate.attributes["colmena.llm.time_to_first_token_s"]) >= 0);

    // The request's log line carries the bridge span's ids.
    await waitFor("the request's log line", () => lines.some((l) => l.msg === "request" && l.trace_id === caller.traceId));
    const line = lines.find((l) => l.msg === "request" && l.trace_id === caller.traceId)!;
    assert.equal(line.span_id, server[0]!.spanContext().spanId);
  });

  test("traces - ingest stays one trace through JetStream: the queue's and the shard log's entries carry it to their intakes", async () => {
    const caller = newTrace();
    const res = await post("/v1/documents", { documents: [{ id: "drones", text: "Drones are male bees; they do not sting." }] }, { traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
    assert.equal(res.status, 202);
    const spans = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === caller.traceId);
    const consumed = (type: string) => spans().find((s) => s.kind === SpanKind.CONSUMER && s.attributes["colmena.message.type"] === type);
    await waitFor("the ingest queue's entry and the shard's write applied under the trace", () => consumed("document") !== undefined && consumed("apply") !== undefined, 30_000);
    const byId = new Map(spans().map((s) => [s.spanContext().spanId, s]));
    for (const type of ["document", "apply"]) {
      const parent = byId.get(consumed(type)!.parentSpanContext!.spanId)!;
      assert.equal(parent.kind, SpanKind.PRODUCER, type);
      assert.match(parent.name, /^publish .+\.>$/, "a JetStream append");
      assert.equal(parent.attributes["messaging.operation.name"], "publish");
    }
  });

  test("traces - a typed error sets the span status and error.type to its code, on both sides of the hop", async () => {
    const caller = newTrace();
    const refs = edge.system.within({ deadline: Date.now() + 10_000, trace: caller });
    await assert.rejects(refs.pool(CoordinatorKind).ask({ type: "search", vector: [1, 2, 3], topK: 3 }), (err) => isColmenaError(err, "INVALID"));
    await waitFor("both spans of the hop", () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === caller.traceId).length >= 2);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === caller.traceId);
    const producer = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
    assert.equal(producer.parentSpanContext?.spanId, caller.spanId);
    assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId);
    for (const s of [producer, consumer]) {
      assert.equal(s.status.code, 2 /* SpanStatusCode.ERROR */, s.name);
      assert.equal(s.attributes["error.type"], "INVALID", s.name);
    }
  });

  test("traces - an unsampled traceparent is continued on the wire but nothing of it is exported", async () => {
    const unsampled = newTrace();
    const res = await post("/v1/query", { question: "Does the queen lay in spring?" }, { traceparent: `00-${unsampled.traceId}-${unsampled.spanId}-00` });
    assert.equal(res.status, 200);
    await res.json();
    assert.match(res.headers.get("traceparent") ?? "", new RegExp(`^00-${unsampled.traceId}-[0-9a-f]{16}-00$`));
    // A sampled question after it: once its spans are all in, any of the first one's would be too.
    const sampled = newTrace();
    await (await post("/v1/query", { question: "Does the queen lay in spring?" }, { traceparent: `00-${sampled.traceId}-${sampled.spanId}-01` })).json();
    await traceOf(sampled.traceId);
    assert.deepEqual(exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === unsampled.traceId), []);
  });
});
