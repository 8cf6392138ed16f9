import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Svcm, type Service, type ServiceIdentity, type ServiceInfo, type ServiceStats } from "@nats-io/services";
import { connect, type Msg, type NatsConnection } from "@nats-io/transport-node";
import { float32FromBytes, NATS_SERVICE_NAME, startNatsService } from "../../bridge/index.js";
import { Codec, type NatsServer } from "../../nats/index.js";
import { overloaded } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { FakeRagApi } from "./fake-rag-api.js";

type ErrorReply = { error: { code: string; message: string; retry_after_ms?: number } };

describe("nats service - the RAG API over NATS request/reply", () => {
  let server: NatsServer;
  let serviceConn: NatsConnection;
  let client: NatsConnection;
  let service: Service;
  const api = new FakeRagApi();
  const codec = new Codec();

  before(async () => {
    server = await startTestServer();
    serviceConn = await connect({ servers: server.url, name: "bridge" });
    client = await connect({ servers: server.url, name: "client" });
    service = await startNatsService(serviceConn, api, { namespace: "test", version: "0.1.0", codec });
  });
  after(async () => {
    await service?.stop();
    await client?.close();
    await serviceConn?.close();
    await server?.stop();
  });

  const call = async (op: string, body: unknown): Promise<Msg> => client.request(`test.api.${op}`, codec.encode(body), { timeout: 5_000 });
  const errorOf = (msg: Msg) => ({ status: msg.headers?.get("Nats-Service-Error-Code"), header: msg.headers?.get("Nats-Service-Error"), body: codec.decode<ErrorReply>(msg.data) });

  test("nats service - ingest, query, delete and embed answer msgpack", async () => {
    const ingest = await call("ingest", { documents: [{ id: "bees", text: "Bees make honey.", metadata: { kind: "insect" } }, { text: "Ants farm aphids." }] });
    assert.equal(ingest.headers?.get("Nats-Service-Error-Code") ?? "", "");
    const { ids } = codec.decode<{ ids: string[] }>(ingest.data);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], "bees");

    const query = codec.decode<Record<string, unknown>>((await call("query", { question: "Who makes honey?", session_id: "nats-1", timeout_ms: 5000 })).data);
    assert.equal(query.answer, "From bees: Bees make honey.");
    assert.equal(query.session_id, "nats-1");
    assert.deepEqual((query.sources as { doc_id: string; metadata: unknown }[]).map((s) => [s.doc_id, s.metadata]), [["bees", { kind: "insect" }]]);
    const { deadline } = api.requests.at(-1)!.scope!;
    assert.ok(deadline > Date.now() && deadline <= Date.now() + 5000, "timeout_ms becomes the request scope's deadline");

    const deleted = codec.decode<{ deleted: boolean }>((await call("delete", { id: ids[1] })).data);
    assert.deepEqual(deleted, { deleted: true });
    const missing = errorOf(await call("delete", { id: ids[1] }));
    assert.equal(missing.status, "404");
    assert.equal(missing.body.error.code, "NOT_FOUND");

    const floats = codec.decode<{ model: string; dimension: number; vectors: number[][] }>((await call("embed", { texts: ["bees", "ants"] })).data);
    assert.equal(floats.model, "fake-embedder");
    assert.equal(floats.dimension, 8);
    assert.deepEqual(floats.vectors[1], Array.from(api.vectorOf("ants")));

    const binary = codec.decode<{ vectors: Uint8Array[] }>((await call("embed", { texts: ["bees"], encoding: "binary" })).data);
    assert.ok(binary.vectors[0] instanceof Uint8Array);
    assert.deepEqual(float32FromBytes(binary.vectors[0]!), api.vectorOf("bees"));
  });

  test("nats service - garbage and wrong shapes get an INVALID error reply, and the service keeps answering", async () => {
    const garbage = errorOf(await client.request("test.api.query", new Uint8Array([0xc1, 0xff, 0x00, 0x13]), { timeout: 5_000 }));
    assert.equal(garbage.status, "400");
    assert.equal(garbage.body.error.code, "INVALID");
    assert.ok(garbage.header && garbage.header.length > 0);

    const empty = errorOf(await client.request("test.api.ingest", new Uint8Array(0), { timeout: 5_000 }));
    assert.equal(empty.body.error.code, "INVALID");

    const wrong = errorOf(await call("query", { question: 42, topK: 1 }));
    assert.equal(wrong.status, "400");
    assert.equal(wrong.body.error.code, "INVALID");
    assert.match(wrong.body.error.message, /question/);
    assert.doesNotMatch(wrong.header ?? "", /[\r\n]/);

    const notAnObject = errorOf(await call("embed", "just a string"));
    assert.equal(notAnObject.body.error.code, "INVALID");

    const stillThere = codec.decode<{ answer: string }>((await call("query", { question: "honey" })).data);
    assert.equal(typeof stillThere.answer, "string");
  });

  test("nats service - shed load is a 429 error with the retry hint", async () => {
    api.failNext("query", overloaded("llm mailbox full", 1500));
    const reply = errorOf(await call("query", { question: "honey" }));
    assert.equal(reply.status, "429");
    assert.deepEqual(reply.body, { error: { code: "OVERLOADED", message: "llm mailbox full", retry_after_ms: 1500 } });
  });

  test("nats service - $SRV.PING, $SRV.INFO and $SRV.STATS answer for the colmena service", async () => {
    const ping = (await client.request(`$SRV.PING.${NATS_SERVICE_NAME}`, undefined, { timeout: 5_000 })).json<ServiceIdentity>();
    assert.equal(ping.name, "colmena");
    assert.equal(ping.version, "0.1.0");

    const info = (await client.request("$SRV.INFO", undefined, { timeout: 5_000 })).json<ServiceInfo>();
    assert.equal(info.name, "colmena");
    assert.deepEqual(info.endpoints.map((e) => e.subject).sort(), ["test.api.delete", "test.api.embed", "test.api.ingest", "test.api.query"]);
    assert.equal(info.metadata?.namespace, "test");

    const stats = (await client.request(`$SRV.STATS.${NATS_SERVICE_NAME}.${ping.id}`, undefined, { timeout: 5_000 })).json<ServiceStats>();
    const query = stats.endpoints?.find((e) => e.subject === "test.api.query");
    assert.ok(query && query.num_requests >= 3);
    assert.ok((query.data as { errors: number }).errors >= 3, "async failures are counted in the endpoint's data");

    // The services client finds it the same way.
    const found = [];
    for await (const s of await new Svcm(client as never).client().ping("colmena")) found.push(s.id);
    assert.deepEqual(found, [ping.id]);
  });
});
