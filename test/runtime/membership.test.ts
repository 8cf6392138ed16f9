import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Kvm } from "@nats-io/kv";
import { jetstreamManager } from "@nats-io/jetstream";
import { Packr } from "msgpackr";
import type { NatsServer } from "../../nats/index.js";
import { isColmenaError, nodeMetrics, type ActorSystem } from "../../runtime/index.js";
import { Counter, Echo } from "../fixtures/runtime/kinds.js";
import { serverWithClient, startTestServer } from "../helpers/nats-server.js";
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

describe("membership - malformed entries and lost leases", () => {
  const nats = serverWithClient();

  test("membership - a malformed entry is skipped and counted; the lease sweep and the process survive it", async () => {
    const watcher = await startTestSystem(nats.server.url, [Counter], { nodeId: "careful" });
    const exported = async (source: string) => Number(new RegExp(`^colmena_malformed_entries_total\\{source="${source}"\\} (\\d+)$`, "m").exec(await nodeMetrics.metrics())?.[1] ?? NaN);
    const exportedBefore = { membership: await exported("membership"), placement: await exported("placement"), state: await exported("state") };
    try {
      const members = await new Kvm(nats.nc).open(watcher.subjects.bucket("members"));
      const packr = new Packr({ useRecords: false });
      await members.put("bogus", packr.pack({}));
      await members.put("garbage", new Uint8Array([0xc1, 0xff]));
      await members.put("impostor", packr.pack({ ...watcher.membership.nodes()[0], id: "someone-else" }));
      await waitFor("the three entries counted", () => watcher.stats().malformed.membership === 3, 5_000);
      // Past the lease: the sweep runs over every member (this one threw an unhandled rejection here and ended the process).
      await new Promise((r) => setTimeout(r, 1_500));
      assert.deepEqual(watcher.membership.nodes().map((n) => n.id), ["careful"]);
      assert.equal(await watcher.membership.isAlive("bogus"), false);
      assert.equal(watcher.stats().malformed.membership, 3, "an entry is reported once, however many readers meet it");
      // The watch goes on applying the valid entries that come after them.
      const late = await startTestSystem(nats.server.url, [], { nodeId: "late" });
      await waitFor("the late node seen", () => watcher.membership.nodes().some((n) => n.id === "late"), 5_000);
      await late.shutdown();
      assert.equal(await watcher.ref(Counter, "still-works").ask({ type: "inc", by: 1 }), 1);
      // A placement entry that names no node is taken over.
      const placement = await new Kvm(nats.nc).open(watcher.subjects.bucket("placement"));
      await placement.put(watcher.subjects.actorKey("counter", "squatted"), new Uint8Array([0xff, 0xfe]));
      assert.equal(await watcher.ref(Counter, "squatted").ask({ type: "inc", by: 2 }), 2);
      assert.equal(watcher.stats().malformed.placement, 1);
      // Unreadable saved state loads as none: the key starts afresh instead of failing every activation.
      const state = await new Kvm(nats.nc).open(watcher.subjects.bucket("state-counter"));
      await state.put(watcher.subjects.stateKey("spoilt"), new Uint8Array([0xc1, 0xff]));
      await state.put(watcher.subjects.stateKey("misshapen"), packr.pack({ n: "not a count" }));
      assert.equal(await watcher.ref(Counter, "spoilt").ask({ type: "inc", by: 3 }), 3);
      assert.equal(await watcher.ref(Counter, "misshapen").ask({ type: "inc", by: 4 }), 4);
      assert.equal(watcher.stats().malformed.state, 2);
      // The same counts in their Prometheus family, by source (the family is the thread's: the late node, in this process too, met the members' entries as well).
      assert.ok((await exported("membership")) >= exportedBefore.membership + 3);
      assert.equal(await exported("placement"), exportedBefore.placement + 1);
      assert.equal(await exported("state"), exportedBefore.state + 2);
    } finally {
      await watcher.shutdown();
    }
  });

  test("membership - a node whose heartbeats fail for a whole lease passivates its keyed actors itself", async () => {
    const node = await startTestSystem(nats.server.url, [Counter], { nodeId: "fenced", flags: { "nats.servers": nats.server.url } });
    try {
      const fenced: number[] = [];
      node.membership.on("fenced", () => fenced.push(Date.now()));
      assert.equal(await node.ref(Counter, "held").ask({ type: "inc", by: 5 }), 5);
      assert.equal(node.stats().kinds[0]!.activations.length, 1);
      // Heartbeats now fail: the bucket they go to is gone.
      await jetstreamManager(nats.nc).then((jsm) => jsm.streams.delete(`KV_${node.subjects.bucket("members")}`));
      await waitFor("the node to fence itself", () => node.membership.fenced, 5_000);
      await waitFor("its activations passivated", () => node.stats().kinds[0]!.activations.length === 0, 5_000);
      assert.equal(fenced.length, 1);
      assert.equal(node.stats().fenced, true);
      await assert.rejects(node.ref(Counter, "new-key").ask({ type: "inc", by: 1 }, { timeoutMs: 1_000 }), (e) => isColmenaError(e, "UNAVAILABLE") || isColmenaError(e, "TIMEOUT"));
      // The state was saved as it passivated: the key resumes where it was once a lease holds again.
      await new Kvm(nats.nc).create(node.subjects.bucket("members"), { ttl: 1_000 });
      await waitFor("heartbeats through again", () => !node.membership.fenced, 5_000);
      assert.equal(await node.ref(Counter, "held").ask({ type: "inc", by: 1 }), 6);
    } finally {
      await node.shutdown();
    }
  });
});
