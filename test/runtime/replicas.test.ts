import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { jetStreamManagerOf } from "../../nats/index.js";
import { isTypedError, type ActorSystem } from "../../runtime/index.js";
import { startTestCluster, type TestCluster } from "../helpers/nats-cluster.js";
import { startTestSystem } from "../helpers/system.js";

let cluster: TestCluster;
let system: ActorSystem;

before(async () => {
  cluster = await startTestCluster(3);
  system = await startTestSystem(cluster.urls[0]!, [], { nodeId: "replicas", flags: { "nats.servers": cluster.urls } });
});

after(async () => {
  await system?.shutdown();
  await cluster?.stop();
});

const replicasOf = async (stream: string) => (await (await jetStreamManagerOf(system.nc)).streams.info(stream)).config.num_replicas;

test("replicas - on a 3-server cluster every stream and bucket a node creates keeps 3 copies (nats.replicas auto)", async () => {
  const log = await system.storage.log({ name: "events", description: "replicated test log" });
  await system.storage.bucket("things");
  assert.equal(await replicasOf(log.stream), 3);
  assert.equal(await replicasOf("KV_colmena_things"), 3);
  assert.equal(await replicasOf("KV_colmena_members"), 3, "the runtime's own buckets too");
  assert.equal(await replicasOf("KV_colmena_placement"), 3);
});

test("replicas - with one server of three killed, the node keeps appending and reading what it stored", async () => {
  const log = await system.storage.log({ name: "survive", description: "replicated test log" });
  const bucket = await system.storage.bucket("survivors");
  const first = await log.append(log.subject("a"), { n: 1 });
  await bucket.put("k", { v: 1 });
  // The server this node is connected to, so the client must fail over as well.
  const port = Number(new URL(`nats://${system.nc.getServer()}`).port);
  const victim = cluster.servers.find((s) => s.port === port)!;
  process.kill(victim.pid, "SIGKILL");
  // While the streams elect new leaders, calls fail as retryable UNAVAILABLE: retried, as a caller would; what they
  // answer after that must be what was written.
  const retried = async <T>(call: () => Promise<T>): Promise<T> => {
    for (let i = 0; ; i++) {
      try {
        return await call();
      } catch (err) {
        if (i >= 100 || !isTypedError(err) || err.code !== "UNAVAILABLE") throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  const next = await retried(() => log.append(log.subject("a"), { n: 2 }));
  assert.ok(next > first);
  assert.deepEqual(await retried(() => bucket.get("k")), { v: 1 }, "written before the loss, read after it");
  assert.equal((await log.state()).messages, 2);
});
