import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, test } from "node:test";
import { z } from "zod";
import { ColmenaError, defineActor, type ActorSystem } from "../../runtime/index.js";
import { startTestCluster, type TestCluster } from "../helpers/nats-cluster.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

const Slow = defineActor({
  kind: "slow-echo",
  placement: "pooled",
  concurrency: 64,
  messages: { echo: z.object({ i: z.number() }) },
  create: () => ({
    echo: async (m: { i: number }) => {
      await sleep(100);
      return m.i;
    },
  }),
});

let cluster: TestCluster;
let host: ActorSystem;
let client: ActorSystem;

before(async () => {
  cluster = await startTestCluster(3);
  const flags = { "nats.servers": cluster.urls, "nats.reconnectTimeWaitMs": 200, "nats.reconnectJitterMs": 0 };
  host = await startTestSystem(cluster.urls[0]!, [Slow], { nodeId: "failover-host", flags });
  client = await startTestSystem(cluster.urls[0]!, [], { nodeId: "failover-client", flags });
  await waitFor("the client sees the pool", () => client.membership.pools(Slow.kind, client.nodeId).length === 1);
});

after(async () => {
  await Promise.all([client?.shutdown(), host?.shutdown()]);
  await cluster?.stop();
});

test("failover - the server a caller is connected to dies under a steady ask rate: nothing waits for its deadline, and asks go on being answered", async () => {
  const outcomes: Array<Promise<number | ColmenaError>> = [];
  const port = Number(new URL(`nats://${client.nc.getServer()}`).port);
  for (let i = 0; i < 60; i++) {
    outcomes.push(client.pool(Slow).ask({ type: "echo", i }, { timeoutMs: 15_000 }).catch((err: unknown) => ColmenaError.from(err)));
    if (i === 15) process.kill(cluster.servers.find((s) => s.port === port)!.pid, "SIGKILL");
    await sleep(25);
  }
  const settled = await Promise.all(outcomes);
  const failures = settled.filter((o): o is ColmenaError => o instanceof ColmenaError);
  assert.deepEqual(failures.filter((f) => f.code === "TIMEOUT").map((f) => f.message), [], "no ask waited out its deadline");
  assert.ok(failures.every((f) => f.retryable), `only retryable failures: ${failures.map((f) => f.code).join(", ")}`);
  assert.deepEqual(settled.slice(-10), Array.from({ length: 10 }, (_, k) => 50 + k), "answered again after the loss");
});
