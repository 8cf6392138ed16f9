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
