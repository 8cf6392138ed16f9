import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { freePort, startNatsServer } from "../../nats/index.js";
import { isConnectionLost, Requester } from "../../runtime/delivery/requester.js";
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
