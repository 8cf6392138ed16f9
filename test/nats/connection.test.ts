import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { connectNats, isNatsError, startNatsServer, type NatsServer } from "../../nats/index.js";

describe("connection - authentication", () => {
  let dir: string;
  let server: NatsServer;
  const log = pino({ level: "silent" });
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-auth-"));
    server = await startNatsServer({ storeDir: dir, extraArgs: ["--user", "colmena", "--pass", "s3cret"] });
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("connection - user and password authenticate", async () => {
    const nc = await connectNats({ servers: server.url, name: "auth-ok", auth: { type: "user", user: "colmena", pass: "s3cret" } }, log);
    assert.equal(nc.isClosed(), false);
    await nc.close();
  });

  test("connection - wrong credentials are an UNAVAILABLE error naming the server", async () => {
    await assert.rejects(
      connectNats({ servers: server.url, name: "auth-bad", auth: { type: "user", user: "colmena", pass: "nope" }, maxReconnectAttempts: 0 }, log),
      (e) => isNatsError(e, "UNAVAILABLE") && e.message.includes(server.url),
    );
  });

  test("connection - an unreadable creds or nkey file is INVALID naming the path", async () => {
    await assert.rejects(
      connectNats({ servers: server.url, name: "x", auth: { type: "nkey", seedFile: "/nonexistent/seed.nk" } }, log),
      (e) => isNatsError(e, "INVALID") && e.message.includes("/nonexistent/seed.nk"),
    );
  });
});
