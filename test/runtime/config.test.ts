import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { isColmenaError, loadConfig, RuntimeConfigSchema } from "../../runtime/index.js";

test("config - defaults, then file, then environment, then flags", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-config-"));
  const file = join(dir, "colmena.json");
  await writeFile(file, JSON.stringify({ namespace: "fromfile", runtime: { askTimeoutMs: 111, heartbeatMs: 100 } }));
  const c = loadConfig(RuntimeConfigSchema, {
    file,
    env: { COLMENA_RUNTIME__ASK_TIMEOUT_MS: "222", COLMENA_NATS__SERVERS: '["nats://a:1","nats://b:2"]', HOME: "/x" },
    flags: { "runtime.askTimeoutMs": 333 },
  });
  assert.equal(c.namespace, "fromfile");
  assert.equal(c.runtime.askTimeoutMs, 333);
  assert.equal(c.runtime.heartbeatMs, 100);
  assert.deepEqual(c.nats.servers, ["nats://a:1", "nats://b:2"]);
  assert.equal(c.log.level, "info");
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.runtime));
});

test("config - a bad value names the key and where it came from", () => {
  const fail = (sources: Parameters<typeof loadConfig>[1], ...needles: string[]) =>
    assert.throws(
      () => loadConfig(RuntimeConfigSchema, sources),
      (e) => isColmenaError(e, "INVALID") && needles.every((n) => e.message.includes(n)),
    );
  fail({ env: { COLMENA_RUNTIME__ASK_TIMEOUT_MS: "soon" } }, "runtime.askTimeoutMs", "env COLMENA_RUNTIME__ASK_TIMEOUT_MS");
  fail({ flags: { "log.level": "loud" } }, "log.level", "flag --log.level");
  fail({ flags: { "runtime.bogus": 1 } }, "runtime.bogus");
  fail({ flags: { "nats.auth": { type: "token" } } }, "nats.auth.token");
  fail({ flags: { "runtime.heartbeatMs": 5000, "runtime.leaseMs": 6000 } }, "runtime.leaseMs", "twice");
  fail({ file: "/nonexistent/colmena.json" }, "/nonexistent/colmena.json");
});
