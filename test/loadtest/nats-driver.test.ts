import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { NatsDriver } from "../../loadtest/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import type { NatsServer } from "../../nats/index.js";

const packr = new Packr({ useRecords: false });

/** A stand-in for the NATS service API: msgpack in and out, errors in the services headers. */
describe("loadtest nats driver", () => {
  let server: NatsServer;
  let responder: NatsConnection;
  before(async () => {
    server = await startTestServer();
    responder = await connect({ servers: server.url });
    responder.subscribe("lt.api.query", {
      callback: (_err, msg) => {
        const body = packr.unpack(msg.data) as { question: string; timeout_ms?: number };
        if (body.question === "shed") {
          const h = headers();
          h.set("Nats-Service-Error", "busy");
          h.set("Nats-Service-Error-Code", "429");
          msg.respond(packr.pack({ error: { code: "OVERLOADED", message: "busy", retry_after_ms: 250 } }), { headers: h });
        } else {
          msg.respond(packr.pack({ answer: "a", sources: [], cached: body.question === "cached", timeout_ms_seen: body.timeout_ms }));
        }
      },
    });
    await responder.flush();
  });
  after(async () => {
    await responder?.close();
    await server?.stop();
  });

  test("loadtest nats driver - answers, cached answers and shed answers with their retry hint", async () => {
    const driver = await NatsDriver.connect({ url: server.url, namespace: "lt", requestTimeoutMs: 5_000 });
    const signal = new AbortController().signal;
    assert.deepEqual(await driver.send({ op: "query", body: { question: "plain" } }, signal), { code: "200", ok: true, shed: false, retryHint: false, cached: false });
    assert.equal((await driver.send({ op: "query", body: { question: "cached" } }, signal)).cached, true);
    assert.deepEqual(await driver.send({ op: "query", body: { question: "shed" } }, signal), { code: "429 OVERLOADED", ok: false, shed: true, retryHint: true });
    assert.equal((await driver.send({ op: "ingest", body: { documents: [] } }, signal)).code, "client no responders");
    await driver.close();
  });
});
