import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ShardLogWriter, shardLogStream, type ShardWrite } from "../../actors/index-shard/index.js";
import { IndexVersion } from "../../actors/pipeline/index-version.js";
import { freePort, jetStreamManagerOf, startNatsServer, type NatsServer } from "../../nats/index.js";
import { isTypedError, Subjects } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

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

const del = (n: number): ShardWrite => ({ op: "delete", chunkId: `c${n}` });

async function consumerNames(conn: NatsConnection, subjects: Subjects): Promise<string[]> {
  const jsm = await jetStreamManagerOf(conn);
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(shardLogStream(subjects))) names.push(ci.name);
  return names;
}

test("index version - starts at 0 on an empty log, then follows each write shortly after it is stored", async () => {
  const subjects = new Subjects("iv-follow");
  const version = await IndexVersion.start(nc, subjects);
  try {
    assert.equal(await version.current(), 0);
    assert.equal(version.healthy, true);
    const writer = new ShardLogWriter(nc, subjects);
    const [first] = await writer.append("docs", 0, [del(1)]);
    await waitFor(`the version is ${first}`, async () => (await version.current()) === first);
    const seqs = [...(await writer.append("docs", 1, [del(2), del(3)])), ...(await writer.append("other", 0, [del(4)]))];
    const last = Math.max(...seqs);
    await waitFor(`the version is ${last}`, async () => (await version.current()) === last);
    assert.equal(version.healthy, true, "followed by the watch, not by the per-call fallback");
  } finally {
    await version.stop();
  }
});

test("index version - one started after writes starts at the last sequence, at once", async () => {
  const subjects = new Subjects("iv-late");
  const first = await IndexVersion.start(nc, subjects); // creates the log
  await first.stop();
  const writer = new ShardLogWriter(nc, subjects);
  const seqs = await writer.append("docs", 2, [del(1), del(2), del(3), del(4), del(5)]);
  const version = await IndexVersion.start(nc, subjects);
  try {
    assert.equal(await version.current(), seqs.at(-1));
    const [next] = await writer.append("docs", 0, [del(6)]);
    await waitFor(`the version is ${next}`, async () => (await version.current()) === next);
  } finally {
    await version.stop();
  }
});

test("index version - a deleted watch consumer: reads the log per call until the watch is caught up again", async () => {
  const subjects = new Subjects("iv-broken");
  const version = await IndexVersion.start(nc, subjects);
  try {
    const writer = new ShardLogWriter(nc, subjects);
    const [name] = await consumerNames(nc, subjects);
    assert.ok(name, "the watch has a consumer");
    await (await jetStreamManagerOf(nc)).consumers.delete(shardLogStream(subjects), name);
    await waitFor("the watch is unhealthy", () => !version.healthy);
    const [during] = await writer.append("docs", 0, [del(1)]);
    assert.equal(await version.current(), during, "the fallback read sees a write at once");
    await waitFor("the watch is healthy again", () => version.healthy);
    const [afterwards] = await writer.append("docs", 0, [del(2)]);
    await waitFor(`the version is ${afterwards}`, async () => (await version.current()) === afterwards);
    assert.equal(version.healthy, true);
  } finally {
    await version.stop();
  }
});

test("index version - a server restart: no stale version while it is down, the watch resumes after it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-iv-"));
  const port = await freePort();
  const opts = { storeDir: join(dir, "js"), port };
  let restartable = await startNatsServer(opts);
  const conn = await connect({ servers: restartable.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const subjects = new Subjects("iv-restart");
  const version = await IndexVersion.start(conn, subjects);
  try {
    const writer = new ShardLogWriter(conn, subjects);
    const [before] = await writer.append("docs", 0, [del(1)]);
    await waitFor(`the version is ${before}`, async () => (await version.current()) === before);
    await restartable.stop();
    await waitFor("the watch is unhealthy", () => !version.healthy);
    await assert.rejects(version.current(), (err) => isTypedError(err) && err.code === "UNAVAILABLE", "no answer rather than a stale one");
    restartable = await startNatsServer(opts);
    await waitFor("the watch is healthy again", () => version.healthy, 20_000);
    const [afterwards] = await writer.append("docs", 0, [del(2)]);
    assert.ok(afterwards! > before!, "the log survived the restart");
    await waitFor(`the version is ${afterwards}`, async () => (await version.current()) === afterwards);
  } finally {
    await version.stop();
    await conn.close();
    await restartable.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("index version - stop closes the watch and deletes its consumer", async () => {
  const subjects = new Subjects("iv-stop");
  const version = await IndexVersion.start(nc, subjects);
  assert.equal((await consumerNames(nc, subjects)).length, 1);
  await version.stop();
  await version.stop(); // twice is fine
  assert.deepEqual(await consumerNames(nc, subjects), []);
  assert.equal(version.healthy, false);
});
