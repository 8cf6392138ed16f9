import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { freePort, startNatsServer } from "../../nats/index.js";
import { setTimeout as sleep } from "node:timers/promises";
import { isConnectionLost, isResponderLost, Requester } from "../../runtime/delivery/requester.js";
import { systemClock } from "../../runtime/index.js";
import { waitFor } from "../helpers/wait.js";

test("requester - a lost connection fails the requests waiting on it at once, retryable, not at their deadline", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-requester-"));
  const opts = { storeDir: join(dir, "js"), port: await freePort() };
  let server = await startNatsServer(opts);
  const nc = await connect({ servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  const requester = new Requester(nc, systemClock, "_INBOX");
  const received: string[] = [];
  nc.subscribe("silent", { callback: (_, m) => void received.push(m.subject) }); // takes requests, never answers
  try {
    const outcome = requester.request("silent", new Uint8Array(), 60_000).then(
      () => "answered",
      (err: unknown) => err,
    );
    await waitFor("the request arrived", () => received.length === 1);
    await server.stop();
    const err = await outcome;
    assert.ok(isConnectionLost(err), `a lost connection, not ${String(err)}`);
    assert.equal((err as { retryable: boolean }).retryable, true);
    server = await startNatsServer(opts);
  } finally {
    requester.close();
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test("requester - a watched request whose responder goes silent fails as a lost responder, retryable; a stall of the caller's own loop is not silence", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-requester-"));
  const server = await startNatsServer({ storeDir: join(dir, "js"), port: await freePort() });
  const nc = await connect({ servers: server.url });
  const requester = new Requester(nc, systemClock, "_INBOX");
  let arrived = 0;
  nc.subscribe("mute", { callback: () => void arrived++ }); // takes requests, never beats, never answers
  try {
    let settled = false;
    const outcome = requester.request("mute", new Uint8Array(), 60_000, undefined, true).then(
      () => "answered",
      (err: unknown) => err,
    );
    void outcome.then(() => (settled = true));
    await waitFor("the request arrived", () => arrived === 1);
    // Longer than the silence limit, with no timer able to run: what this node could not read is not the responder's silence.
    const until = Date.now() + 7_000;
    while (Date.now() < until);
    await sleep(200);
    assert.equal(settled, false, "a stall of its own does not fail the request");
    const err = await outcome;
    assert.ok(isResponderLost(err), `a lost responder, not ${String(err)}`);
    assert.equal((err as { retryable: boolean }).retryable, true);
  } finally {
    requester.close();
    await nc.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
