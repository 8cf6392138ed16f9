import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startColmenaNode, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";
import { waitFor } from "../helpers/wait.js";

const EMBEDDERS = /^colmena_actor_instances\{kind="embedder",state="running"\} (\d+)$/m;
const read = async (url: string, series: RegExp) => Number(series.exec(await (await fetch(url)).text())?.[1] ?? 0);

/**
 * `http.clusterMetrics`: the bridge of a `colmena up` shows the figures of
 * every node on its NATS, a node that joins later included, each counted
 * once (every thread answers the scrape as a node of its own).
 */
describe("metrics - a bridge with http.clusterMetrics shows the cluster", () => {
  let up: ColmenaProcess;
  let other: ColmenaProcess | undefined;
  before(async () => {
    up = await startColmenaUp(["--set", "http.clusterMetrics=true"]);
  });
  after(async () => {
    await other?.stop();
    await up?.stop();
  });

  test("metrics - another node's embedders are added to this node's, and the bridge's own families stay", async () => {
    const bridge = `${up.httpUrl}/metrics`;
    const own = await read(bridge, EMBEDDERS);
    assert.ok(own >= 1, "colmena up's actor thread runs embedders");
    other = await startColmenaNode(["--roles", "embedder", "--nats", up.natsUrl, "--creds", up.creds!.node]);
    const page = /metrics:\s+(\S+)/.exec(other.output())![1]!;
    const theirs = await read(page, EMBEDDERS);
    assert.ok(theirs >= 1);
    await waitFor("the new node's embedders in the cluster's figures", async () => (await read(bridge, EMBEDDERS)) === own + theirs, 30_000);
    const text = await (await fetch(bridge)).text();
    assert.match(text, /^# TYPE colmena_http_requests_total counter$/m);
    assert.match(text, /^# TYPE process_cpu_seconds_total counter$/m);
    assert.doesNotMatch(text, /node=|-a0/, "the cluster's figures are added up, never labelled by node");
  });
});
