import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { newTrace } from "../../runtime/index.js";
import { runColmena, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";
import { startOtlpReceiver, type OtlpReceiver } from "../helpers/otlp-receiver.js";
import { waitFor } from "../helpers/wait.js";

const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/**
 * Black-box: the real `colmena up`, configured only by OTEL_* variables,
 * exports to a receiver in this test over OTLP/HTTP, in each encoding. One
 * question asked with a sampled `traceparent` arrives as spans of that trace
 * from both threads (the bridge's and the actor thread's), and the request's
 * log line carries its trace id.
 */
for (const protocol of ["http/json", "http/protobuf"] as const) {
  describe(`otlp - colmena up exports its traces over ${protocol}`, () => {
    let receiver: OtlpReceiver;
    let up: ColmenaProcess;
    before(async () => {
      receiver = await startOtlpReceiver();
      up = await startColmenaUp(["--log-level", "info"], undefined, undefined, {
        ...process.env,
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
        OTEL_SERVICE_NAME: "colmena-under-test",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test",
        // Only what a caller samples: the ingest and start-up work make no traces of their own.
        OTEL_TRACES_SAMPLER: "parentbased_always_off",
        OTEL_BSP_SCHEDULE_DELAY: "100",
      });
      assert.equal((await post(up.httpUrl, "/v1/documents", { documents: [{ id: "bees", text: "Bees make honey in hives." }] })).status, 202);
      await waitFor("the document is indexed", async () => ((await (await post(up.httpUrl, "/v1/query", { question: "What do bees make?" })).json()) as { sources: unknown[] }).sources.length > 0, 60_000);
    });
    after(async () => {
      await up?.stop();
      await receiver?.close();
    });

    test(`otlp - one question's spans arrive under the caller's trace id, from both threads (${protocol})`, async () => {
      const caller = newTrace();
      const res = await post(up.httpUrl, "/v1/query", { question: "Where do bees make honey?" }, { traceparent: `00-${caller.traceId}-${caller.spanId}-01` });
      assert.equal(res.status, 200);
      await res.json();
      const ours = () => receiver.spans.filter((s) => s.traceId === caller.traceId);
      // Each thread exports on its own schedule: wait until the tree is whole (every span's parent there but the server span's).
      const whole = () => {
        const spans = ours();
        const ids = new Set(spans.map((s) => s.spanId));
        return spans.some((s) => s.kind === 2) && spans.some((s) => s.name === "generate") && spans.every((s) => s.kind === 2 || ids.has(s.parentSpanId));
      };
      await waitFor("the question's whole span tree", whole, 30_000);
      const spans = ours();
      assert.ok(spans.every((s) => s.contentType.startsWith(protocol === "http/json" ? "application/json" : "application/x-protobuf")));
      const server = spans.find((s) => s.kind === 2 /* SERVER */)!;
      assert.equal(server.name, "POST /v1/query");
      assert.equal(server.parentSpanId, caller.spanId);
      assert.equal(server.attributes["http.response.status_code"], 200);
      // The bridge thread is the node; the actors run in its actor thread, a node id of their own, under the same trace.
      const instances = new Set(spans.map((s) => s.resource["service.instance.id"]));
      assert.equal(instances.size, 2, [...instances].join(", "));
      const bridge = server.resource["service.instance.id"] as string;
      assert.ok(instances.has(`${bridge}-a0`));
      for (const s of spans) {
        assert.equal(s.resource["service.name"], "colmena-under-test");
        assert.equal(s.resource["deployment.environment.name"], "test");
      }
      const ids = new Set(spans.map((s) => s.spanId));
      for (const s of spans) if (s !== server) assert.ok(ids.has(s.parentSpanId), `${s.name}: its parent arrived too`);
      const shard = spans.find((s) => s.name === "shard search")!;
      assert.equal(typeof shard.attributes["colmena.shard.hits"], "number");
      assert.ok(spans.some((s) => s.kind === 5 /* CONSUMER */ && s.attributes["messaging.system"] === "nats" && s.resource["service.instance.id"] === `${bridge}-a0`));

      await waitFor("the request's log line", () => up.output().split("\n").some((l) => l.includes('"msg":"request"') && l.includes(caller.traceId)));
      const raw = up.output().split("\n").find((l) => l.includes('"msg":"request"') && l.includes(caller.traceId))!;
      assert.equal(raw.split('"trace_id"').length, 2, `one trace_id on the line: ${raw}`);
      const line = JSON.parse(raw) as Record<string, unknown>;
      assert.equal(line.trace_id, caller.traceId);
      assert.equal(line.span_id, server.spanId);
    });
  });
}

describe("otlp - tracing configuration mistakes", () => {
  test("otlp - a protocol the SDK does not speak stops start-up with exit code 2, naming the variable", async () => {
    const child = await runColmena(["up", "--port", "0", "--nats-port", "0", "--data-dir", "/nonexistent-colmena-dir"], { ...process.env, OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon", OTEL_TRACES_EXPORTER: "otlp" });
    assert.equal(child.code, 2);
    assert.match(child.stderr, /OTEL_EXPORTER_OTLP_PROTOCOL: "carrier-pigeon" is not one of/);
  });
});
