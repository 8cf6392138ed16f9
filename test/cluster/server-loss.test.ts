import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { everyAcknowledgedSearchable, startClusterNodes, steadyWithLoss, type ClusterNodes } from "../helpers/cluster-nodes.js";

/**
 * Black box: a 3-server JetStream cluster (started from `colmena nats
 * config`'s files) and three `colmena node` processes joined with every
 * server's URL, two of them bridges. Under a steady rate of questions
 * through the bridges, with documents ingested alongside, the nats-server
 * holding the most client connections is SIGKILLed. The errors' window is
 * measured and reported; what is asserted does not depend on the machine's
 * speed: every question sent after the window is answered, no document is
 * refused for the loss (only as OVERLOADED), and every document whose
 * ingest was acknowledged is searchable at the end.
 */
let c: ClusterNodes;
before(async () => void (c = await startClusterNodes()));
after(async () => c?.stop());

test("server loss - one nats-server SIGKILLed under steady questions: errors only inside a window, every later question answered, no acknowledged document lost", async (t) => {
  const bridges = c.nodes.slice(0, 2).map((n) => n.httpUrl);
  // The server most of the nodes' connections are on, from each server's monitoring port.
  const connections = await Promise.all(c.cluster.configs.map(async (s) => ((await (await fetch(`http://127.0.0.1:${s.monitorPort}/varz`)).json()) as { connections: number }).connections));
  const victim = connections.indexOf(Math.max(...connections));
  t.diagnostic(`client connections per server: ${connections.join(", ")}; killing ${c.cluster.configs[victim]!.name}`);
  assert.ok(connections[victim]! > 0);
  const { refusedIngests } = await steadyWithLoss(t, c, bridges, 12_000, () => process.kill(c.cluster.servers[victim]!.pid, "SIGKILL"));
  // The ingest stream's leader election is waited out within the request: a document is refused only when every ingest instance is busy (429, sent again by a client).
  assert.deepEqual(refusedIngests.filter((r) => !/ 429 /.test(r)), [], "no ingest refused for the server's loss");
  await everyAcknowledgedSearchable(t, c, bridges);
});
