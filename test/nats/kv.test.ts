import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { z } from "zod";
import { Codec, openBucket, type NatsServer } from "../../nats/index.js";
import { Subjects } from "../../runtime/index.js";
import { defineActor } from "../../runtime/index.js";
import { StateStore } from "../../runtime/cluster/state-store.js";
import { MalformedEntries } from "../../runtime/cluster/malformed.js";
import { pino } from "pino";
import { startTestServer } from "../helpers/nats-server.js";

let server: NatsServer;
let nc: NatsConnection;

before(async () => {
  server = await startTestServer();
  nc = await connect({ servers: server.url });
});

after(async () => {
  await nc?.close();
  await server?.stop();
});

test("kv - opening a bucket again applies a changed TTL, and none", async () => {
  assert.equal((await (await openBucket(nc, "ttl-change", { ttlMs: 1_000 })).status()).ttl, 1_000);
  assert.equal((await (await openBucket(nc, "ttl-change", { ttlMs: 60_000 })).status()).ttl, 60_000);
  assert.equal((await (await openBucket(nc, "ttl-change")).status()).ttl, 0);
  assert.equal((await (await openBucket(nc, "ttl-change", { ttlMs: 500 })).status()).ttl, 500);
});

test("kv - a keyed kind's state lives in its own bucket and expires its stateTtlMs after the last save", async () => {
  const kind = (name: string, stateTtlMs?: number) =>
    defineActor({ kind: name, placement: "keyed", messages: { noop: z.object({}) }, ...(stateTtlMs !== undefined && { stateTtlMs }), create: () => ({ noop: () => undefined }) });
  const store = new StateStore(nc, new Subjects("ttl"), new Codec(), new MalformedEntries(pino({ level: "silent" })));
  const brief = kind("brief", 1_000);
  const lasting = kind("lasting");
  assert.equal(await store.create(brief, "k1", { turns: 1 }), true);
  assert.equal(await store.create(brief, "k1", { turns: 2 }), false, "create never overwrites");
  await store.save(lasting, "k1", { turns: 3 });
  assert.deepEqual(await store.load(brief, "k1"), { turns: 1 });
  assert.deepEqual(await store.load(lasting, "k1"), { turns: 3 }, "same key, other kind: its own bucket");
  for (let i = 0; i < 100 && (await store.load(brief, "k1")) !== undefined; i++) await sleep(100);
  assert.equal(await store.load(brief, "k1"), undefined, "the server removed it after the max age");
  assert.deepEqual(await store.load(lasting, "k1"), { turns: 3 }, "a kind without stateTtlMs keeps its state");
});

test("kv - a bucket with maxBytes drops its oldest entries to take new ones", async () => {
  const kv = await openBucket(nc, "bounded", { maxBytes: 64 * 1024 });
  for (let i = 0; i < 40; i++) await kv.put(`k${i}`, new Uint8Array(4 * 1024));
  assert.equal((await kv.get("k0"))?.operation === "PUT", false, "the first entries made room");
  assert.equal((await kv.get("k39"))?.value.length, 4 * 1024, "the last write was taken");
  const status = await kv.status();
  assert.ok(status.size <= 64 * 1024, `bucket holds ${status.size} bytes`);
});
