import assert from "node:assert/strict";
import { test } from "node:test";
import { ServerMonitor } from "../../loadtest/index.js";
import { startColmenaNode, startColmenaUp } from "../helpers/colmena-process.js";

test("server monitor - memory is summed per process: colmena up's bridge and actor thread once, another process beside it", async () => {
  const up = await startColmenaUp();
  try {
    const node = await startColmenaNode(["--nats", up.natsUrl, "--creds", up.creds!.node, "--roles", "embedder"]);
    try {
      const monitor = new ServerMonitor(up.httpUrl, performance.now());
      // The membership shows the third node within a heartbeat or two.
      for (let i = 0; i < 100 && Object.keys(monitor.samples.at(-1)?.nodes ?? {}).length < 3; i++) {
        await monitor.poll();
        await new Promise((r) => setTimeout(r, 200));
      }
      const sample = monitor.samples.at(-1)!;
      const ids = Object.keys(sample.nodes);
      assert.equal(ids.length, 3, JSON.stringify(sample));
      const actorThread = ids.find((id) => /-a0$/.test(id))!;
      const bridge = sample.bridge!;
      const other = ids.find((id) => id !== actorThread && id !== bridge)!;
      assert.ok(actorThread && other, JSON.stringify(sample));
      assert.equal(sample.processOf[bridge], sample.processOf[actorThread], "the bridge and its actor thread are one process");
      assert.notEqual(sample.processOf[other], sample.processOf[bridge]);
      const upMb = Math.max(sample.nodes[bridge]!, sample.nodes[actorThread]!);
      assert.equal(sample.totalMb, upMb + sample.nodes[other]!, "one process counted once, the other added");
      assert.ok(sample.totalMb < sample.nodes[bridge]! + sample.nodes[actorThread]! + sample.nodes[other]!);
    } finally {
      assert.equal(await node.stop(), 0);
    }
  } finally {
    assert.equal(await up.stop(), 0);
  }
});
