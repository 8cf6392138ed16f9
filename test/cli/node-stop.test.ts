import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { startColmenaNode } from "../helpers/colmena-process.js";
import { startTestServer } from "../helpers/nats-server.js";

/**
 * A node's stop is bounded: with its only nats-server gone, the graceful
 * stop cannot finish (nothing can be flushed, no lease given back), and the
 * node still exits by itself — at once on a second signal, else once the
 * stop has outlasted the shutdown grace by its limit.
 */
test("colmena node - with its nats-server gone, a stop ends by itself: a second signal exits at once, one signal once the limit has passed", async () => {
  const server = await startTestServer();
  const args = ["--nats", server.url, "--roles", "embedder,shard,ingest,query,llm,session", "--set", "runtime.shutdownGraceMs=1000", "--log-level", "info"];
  const [twice, once_] = await Promise.all([startColmenaNode(args), startColmenaNode(args)]);
  try {
    const exited = (n: typeof twice) => once(n.child, "exit") as Promise<[number | null, string | null]>;
    const exits = Promise.all([exited(twice), exited(once_)]);
    process.kill(server.pid, "SIGKILL");
    for (const n of [twice, once_]) n.child.kill("SIGINT");
    await waitForLine(twice.output, /"msg":"stopping"/);
    twice.child.kill("SIGTERM");
    const [[twiceCode, twiceSignal], [onceCode, onceSignal]] = await exits;
    assert.deepEqual([twiceCode, twiceSignal], [1, null], "the second signal ends the stop");
    assert.match(twice.output(), /a second signal: exiting without finishing the stop/);
    assert.deepEqual([onceCode, onceSignal], [1, null], `the stop ended by the node itself, not a kill:\n${once_.output().slice(-2_000)}`);
    assert.match(once_.output(), /the stop did not finish in time: exiting/);
  } finally {
    await Promise.all([twice.stop(), once_.stop()]);
    await server.stop().catch(() => {});
  }
});

async function waitForLine(output: () => string, line: RegExp): Promise<void> {
  while (!line.test(output())) await new Promise((r) => setTimeout(r, 50));
}
