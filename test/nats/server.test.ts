import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { isNatsError, NATS_INSTALL_HINT, startNatsServer } from "../../nats/index.js";

test("server - starts nats-server with JetStream on a free port and stops it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-server-"));
  const server = await startNatsServer({ storeDir: dir });
  try {
    const nc = await connect({ servers: server.url });
    assert.equal(nc.info?.jetstream, true);
    await nc.close();
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(connect({ servers: server.url, reconnect: false, timeout: 500 }));
});

test("server - a missing binary is an UNAVAILABLE error that names the install command", async () => {
  await assert.rejects(
    startNatsServer({ storeDir: join(tmpdir(), "never"), bin: "/nonexistent/nats-server" }),
    (e) => isNatsError(e, "UNAVAILABLE") && e.message.includes(NATS_INSTALL_HINT),
  );
});

test("server - a port another server holds is a start that fails, never a handle to the other server", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-server-"));
  const first = await startNatsServer({ storeDir: join(dir, "a") });
  try {
    // Two starts that picked the same free port: the second server cannot listen, and its start must say so
    // rather than pass its readiness check by connecting to the first.
    await assert.rejects(startNatsServer({ storeDir: join(dir, "b"), port: first.port }), (e) => isNatsError(e, "UNAVAILABLE") && /address already in use/.test(e.message));
  } finally {
    await first.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
