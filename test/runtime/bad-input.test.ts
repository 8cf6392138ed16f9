import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { isColmenaError, MAX_ACTOR_KEY_LENGTH, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { Counter, Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

const packr = new Packr({ useRecords: false });

describe("bad input - on actor subjects", () => {
  let server: NatsServer;
  let system: ActorSystem;
  let nc: NatsConnection;
  before(async () => {
    server = await startTestServer();
    system = await startTestSystem(server.url, [Echo, Counter], { nodeId: "bad-input" });
    nc = await connect({ servers: server.url });
  });
  after(async () => {
    await nc?.close();
    await system?.shutdown();
    await server?.stop();
  });

  const errorOf = async (subject: string, data: Uint8Array, extra?: (h: ReturnType<typeof headers>) => void) => {
    const h = headers();
    h.set("Colmena-Timeout", "2000");
    extra?.(h);
    const reply = await nc.request(subject, data, { timeout: 2_000, headers: h });
    assert.ok(reply.headers?.has("Colmena-Error"), `expected an error reply, got ${reply.data.length} bytes`);
    const wire = packr.unpack(reply.data) as { code: string; message: string };
    assert.equal(reply.headers!.get("Colmena-Error"), wire.code);
    return wire;
  };

  const cases: Array<[string, Uint8Array, string]> = [
    ["garbage bytes", new Uint8Array([0xc1, 0xff, 0x00, 0x13]), "DECODE"],
    ["truncated msgpack", packr.pack({ type: "echo", value: "a long string value" }).subarray(0, 9), "DECODE"],
    ["an empty body", new Uint8Array(0), "DECODE"],
    ["a non-map message", packr.pack([1, 2, 3]), "INVALID"],
    ["an unknown message type", packr.pack({ type: "nope" }), "INVALID"],
    ["a field of the wrong type", packr.pack({ type: "slow", ms: "soon" }), "INVALID"],
  ];
  for (const [what, data, code] of cases) {
    test(`bad input - ${what} gets a typed ${code} reply`, async () => {
      const pooled = await errorOf(system.subjects.pool("echo"), data);
      assert.equal(pooled.code, code, pooled.message);
      const keyed = await errorOf(system.subjects.keyed("counter", "bad"), packr.pack({ type: "get" })).catch(() => undefined);
      assert.equal(keyed, undefined, "nothing is active on the key yet, so that request finds no responder");
    });
  }

  test("bad input - an oversized payload gets TOO_LARGE", async () => {
    const big = packr.pack({ type: "echo", value: "x".repeat(system.codec.maxPayload + 10) });
    assert.ok(big.length <= (nc.info?.max_payload ?? 0), "the server itself accepts it");
    assert.equal((await errorOf(system.subjects.pool("echo"), big)).code, "TOO_LARGE");
  });

  test("bad input - a malformed timeout header gets INVALID", async () => {
    const e = await errorOf(system.subjects.pool("echo"), packr.pack({ type: "echo", value: 1 }), (h) => h.set("Colmena-Timeout", "soon"));
    assert.equal(e.code, "INVALID");
  });

  test("bad input - a bad stream request gets an error frame", async () => {
    const inbox = `_INBOX.bad-stream`;
    const sub = nc.subscribe(inbox, { max: 1 });
    const h = headers();
    h.set("Colmena-Mode", "stream");
    h.set("Colmena-Stream", "s1");
    h.set("Colmena-Credit", "4");
    nc.publish(system.subjects.pool("echo"), packr.pack({ type: "count", n: "many" }), { reply: inbox, headers: h });
    for await (const m of sub) {
      const frame = packr.unpack(m.data) as [number, { code: string }];
      assert.equal(frame[0], 2);
      assert.equal(frame[1].code, "INVALID");
    }
  });

  test("bad input - garbage without a reply subject is dropped and nothing crashes", async () => {
    for (const [, data] of cases) nc.publish(system.subjects.pool("echo"), data);
    nc.publish(system.subjects.activate("counter"), new Uint8Array([1, 2, 3]));
    await nc.flush();
    assert.equal(await system.pool(Echo).ask({ type: "echo", value: "still here" }), "still here");
    assert.equal(await system.ref(Counter, "after-garbage").ask({ type: "inc", by: 1 }), 1);
    const activation = await nc.request(system.subjects.activate("counter"), packr.pack({ nokey: true }), { timeout: 2_000 });
    assert.equal((packr.unpack(activation.data) as { error: { code: string } }).error.code, "INVALID");
    for (const kind of system.stats().kinds) for (const a of kind.activations) assert.notEqual(a.lifecycle, "failed");
  });

  test("bad input - a 5,000-character key is refused INVALID and the node keeps its NATS connection", async () => {
    const drops: string[] = [];
    void (async () => {
      for await (const s of system.nc.status()) if (s.type === "disconnect" || s.type === "error") drops.push(s.type);
    })();
    const huge = "k".repeat(5_000);
    await assert.rejects(async () => system.ref(Counter, huge).ask({ type: "inc", by: 1 }), (e) => isColmenaError(e, "INVALID"));
    // The same key through the internal entry point: an activation request from another node.
    const activation = await nc.request(system.subjects.activate("counter"), packr.pack({ key: huge }), { timeout: 2_000 });
    assert.equal((packr.unpack(activation.data) as { error: { code: string } }).error.code, "INVALID");
    // The longest key allowed is served, its subject and KV keys hashed under the server's limits.
    const longest = "L".repeat(MAX_ACTOR_KEY_LENGTH);
    assert.equal(await system.ref(Counter, longest).ask({ type: "inc", by: 2 }), 2);
    assert.equal(await system.ref(Counter, longest).ask({ type: "inc", by: 3 }), 5);
    assert.equal(await system.pool(Echo).ask({ type: "echo", value: "connected" }), "connected");
    assert.deepEqual(drops, []);
    assert.equal(system.nc.isClosed(), false);
  });
});
