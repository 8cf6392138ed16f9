import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { pino } from "pino";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Codec, freePort, jetStreamManagerOf, startNatsServer } from "../../nats/index.js";
import { isTypedError, NatsStorage, Subjects, systemClock, type Log, type LogHead } from "../../runtime/index.js";
import { serverWithClient } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";

const fx = serverWithClient();

const openLog = (conn: NatsConnection, namespace: string): Promise<Log> =>
  new NatsStorage(conn, new Subjects(namespace), new Codec(), systemClock).log({ name: "events", description: "a log whose head is followed" });

/** Appends one entry per value to `<ns>.events.<topic>`, in order; answers their sequences. */
async function append(log: Log, topic: string, ...values: number[]): Promise<number[]> {
  const seqs: number[] = [];
  for (const n of values) seqs.push(await log.append(log.subject(topic), { n }));
  return seqs;
}

async function follow(conn: NatsConnection, namespace: string): Promise<{ log: Log; head: LogHead }> {
  const log = await openLog(conn, namespace);
  return { log, head: await log.follow() };
}

async function consumerNames(conn: NatsConnection, log: Log): Promise<string[]> {
  const jsm = await jetStreamManagerOf(conn);
  const names: string[] = [];
  for await (const ci of jsm.consumers.list(log.stream)) names.push(ci.name);
  return names;
}

test("log head - starts at 0 on an empty log, then follows each write shortly after it is stored", async () => {
  const { log, head } = await follow(fx.nc, "iv-follow");
  try {
    assert.equal(await head.current(), 0);
    assert.equal(head.healthy, true);
    const [first] = await append(log, "docs", 1);
    await waitFor(`the head is ${first}`, async () => (await head.current()) === first);
    const seqs = [...(await append(log, "docs", 2, 3)), ...(await append(log, "other", 4))];
    const last = Math.max(...seqs);
    await waitFor(`the head is ${last}`, async () => (await head.current()) === last);
    assert.equal(head.healthy, true, "followed by the watch, not by the per-call fallback");
  } finally {
    await head.stop();
  }
});

test("log head - per subject: the newest entry on each, those written before the watch (read once) and after it (followed)", async () => {
  const log = await openLog(fx.nc, "iv-subjects");
  const [before] = await append(log, "early", 1);
  await append(log, "docs", 2);
  const head = await log.follow();
  try {
    assert.equal(await head.currentOn(log.subject("early")), before, "written before the watch opened");
    assert.equal(await head.currentOn(log.subject("never")), 0, "a subject with no entry");
    const [late] = await append(log, "early", 3);
    const [other] = await append(log, "docs", 4);
    await waitFor(`the head is ${other}`, async () => (await head.current()) === other);
    assert.equal(await head.currentOn(log.subject("early")), late, "followed after the first read");
    assert.equal(await head.currentOn(log.subject("docs")), other);
    const [first] = await append(log, "never", 5);
    await waitFor("the new subject is followed", async () => (await head.currentOn(log.subject("never"))) === first);
  } finally {
    await head.stop();
  }
});

test("log head - one started after writes starts at the last sequence, at once", async () => {
  const log = await openLog(fx.nc, "iv-late");
  const seqs = await append(log, "docs", 1, 2, 3, 4, 5);
  const head = await log.follow();
  try {
    assert.equal(await head.current(), seqs.at(-1));
    const [next] = await append(log, "docs", 6);
    await waitFor(`the head is ${next}`, async () => (await head.current()) === next);
  } finally {
    await head.stop();
  }
});

test("log head - a deleted watch consumer: reads the log per call until the watch is caught up again", async () => {
  const log = await openLog(fx.nc, "iv-broken");
  // The client may recreate the watch before a poll of `healthy` sees it down: the warning it logs is the witness.
  const warnings: string[] = [];
  const collector = new Writable({
    write(line: Buffer, _encoding, done) {
      warnings.push(String(line));
      done();
    },
  });
  const head = await log.follow({ log: pino({ level: "warn" }, collector) });
  try {
    const [name] = await consumerNames(fx.nc, log);
    assert.ok(name, "the watch has a consumer");
    await (await jetStreamManagerOf(fx.nc)).consumers.delete(log.stream, name);
    await waitFor("the watch went unhealthy", () => warnings.some((w) => /unhealthy/.test(w)));
    const [during] = await append(log, "docs", 1);
    // The client recreates the watch by itself, so it may be healthy again by now: then it follows from memory.
    await waitFor(`the head is ${during}`, async () => (await head.current()) === during);
    await waitFor("the watch is healthy again", () => head.healthy);
    const [afterwards] = await append(log, "docs", 2);
    await waitFor(`the head is ${afterwards}`, async () => (await head.current()) === afterwards);
  } finally {
    await head.stop();
  }
});

test("log head - a server restart: no stale version while it is down, the watch resumes after it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-iv-"));
  const port = await freePort();
  const opts = { storeDir: join(dir, "js"), port };
  let restartable = await startNatsServer(opts);
  const conn = await connect({ servers: restartable.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const { log, head } = await follow(conn, "iv-restart");
  try {
    const [before] = await append(log, "docs", 1);
    await waitFor(`the head is ${before}`, async () => (await head.current()) === before);
    await restartable.stop();
    await waitFor("the watch is unhealthy", () => !head.healthy);
    await assert.rejects(head.current(), (err) => isTypedError(err) && err.code === "UNAVAILABLE", "no answer rather than a stale one");
    restartable = await startNatsServer(opts);
    await waitFor("the watch is healthy again", () => head.healthy, 20_000);
    const [afterwards] = await append(log, "docs", 2);
    assert.ok(afterwards! > before!, "the log survived the restart");
    await waitFor(`the head is ${afterwards}`, async () => (await head.current()) === afterwards);
  } finally {
    await head.stop();
    await conn.close();
    await restartable.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("log head - stop closes the watch and deletes its consumer", async () => {
  const { log, head } = await follow(fx.nc, "iv-stop");
  assert.equal((await consumerNames(fx.nc, log)).length, 1);
  await head.stop();
  await head.stop(); // twice is fine
  assert.deepEqual(await consumerNames(fx.nc, log), []);
  assert.equal(head.healthy, false);
});
