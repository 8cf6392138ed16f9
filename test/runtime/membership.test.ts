import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { NatsServer } from "../../nats/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import { Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { startNodeProcess } from "../helpers/node-process.js";
import { startTestSystem } from "../helpers/system.js";

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
    await waitFor("join", () => watcher.membership.nodes().some((n) => n.id === "joiner"), 6_000);
    const info = watcher.membership.nodes().find((n) => n.id === "joiner")!;
    assert.deepEqual([info.roles, info.kinds, info.version], [["embedder"], ["echo"], "9.9.9"]);
    assert.ok(info.load.rssMb > 0);
    await other.shutdown();
    await waitFor("leave", () => left.includes("joiner"), 6_000);
  });

  test("membership - a killed node leaves after its lease", async () => {
    const node = await startNodeProcess(server.url, ["echo"], "doomed");
    await waitFor("join", () => watcher.membership.nodes().some((n) => n.id === "doomed"), 6_000);
    assert.equal(await watcher.membership.isAlive("doomed"), true);
    await node.kill();
    await waitFor("leave after the lease", () => !watcher.membership.nodes().some((n) => n.id === "doomed"), 6_000);
    assert.equal(await watcher.membership.isAlive("doomed"), false);
  });
});
