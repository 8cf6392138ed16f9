import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { NatsServer } from "../../nats/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import { Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startNodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await sleep(20);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("membership - nodes see each other", () => {
  let server: NatsServer;
  let watcher: ActorSystem;
  before(async () => {
    server = await startTestServer();
    watcher = await startTestSystem(server.url, [], { nodeId: "watcher", roles: ["bridge"] });
  });
  after(async () => {
    await watcher?.shutdown();
    await server?.stop();
  });

  test("membership - a node announces id, roles, kinds, version and load; a clean leave is seen at once", async () => {
    const left: string[] = [];
    watcher.membership.on("leave", (id) => left.push(id));
    const other = await startTestSystem(server.url, [Echo], { nodeId: "joiner", roles: ["embedder"], version: "9.9.9" });
    await until(() => watcher.membership.nodes().some((n) => n.id === "joiner"), "join");
    const info = watcher.membership.nodes().find((n) => n.id === "joiner")!;
    assert.deepEqual([info.roles, info.kinds, info.version], [["embedder"], ["echo"], "9.9.9"]);
    assert.ok(info.load.rssMb > 0);
    await other.shutdown();
    await until(() => left.includes("joiner"), "leave");
  });

  test("membership - a killed node leaves after its lease", async () => {
    const node = await startNodeProcess(server.url, ["echo"], "doomed");
    await until(() => watcher.membership.nodes().some((n) => n.id === "doomed"), "join");
    assert.equal(await watcher.membership.isAlive("doomed"), true);
    await node.kill();
    await until(() => !watcher.membership.nodes().some((n) => n.id === "doomed"), "leave after the lease");
    assert.equal(await watcher.membership.isAlive("doomed"), false);
  });
});
