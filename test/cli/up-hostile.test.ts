import assert from "node:assert/strict";
import { connect as tcp } from "node:net";
import { after, before, describe, test } from "node:test";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { Packr } from "msgpackr";
import { connectToUp, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

const packr = new Packr({ useRecords: false, moreTypes: true });
const LIMIT = 16;

const post = (base: string, path: string, body: unknown) => fetch(`${base}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

/** A client that sends its headers and part of its body, then closes the socket. */
function leaveMidBody(httpUrl: string): Promise<void> {
  const { hostname, port } = new URL(httpUrl);
  return new Promise((resolve) => {
    const socket = tcp(Number(port), hostname, () => {
      socket.write(`POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{"question": "be`);
      setTimeout(() => socket.destroy(), 10);
    });
    socket.on("error", () => undefined);
    socket.once("close", () => resolve());
  });
}

describe("colmena up - hostile clients and peers, black box", () => {
  let up: ColmenaProcess;
  let nc: NatsConnection;
  before(async () => {
    // Short leases, so a lease sweep over a malformed entry comes within the test.
    up = await startColmenaUp(["--set", "runtime.heartbeatMs=300", "--set", "runtime.leaseMs=1200", "--set", `http.admission.initialLimit=${LIMIT}`]);
    // A peer holding the node user's creds: it may do what any role may, as a compromised node could.
    nc = await connectToUp(up, "node");
  });
  after(async () => {
    await nc?.close();
    assert.equal(await up?.stop(), 0, "the node is still up and stops cleanly");
  });

  test("colmena up - 200 clients that leave mid-body leave the bridge admitting its full concurrency", async () => {
    for (let i = 0; i < 200; i += LIMIT) await Promise.all(Array.from({ length: LIMIT }, () => leaveMidBody(up.httpUrl)));
    const answers = await Promise.all(Array.from({ length: LIMIT }, () => post(up.httpUrl, "/v1/query", { question: "anything about bees?" })));
    const statuses = answers.map((r) => r.status);
    await Promise.all(answers.map((r) => r.arrayBuffer()));
    assert.equal(statuses.filter((s) => s === 429).length, 0, `statuses: ${statuses.join(",")}`);
  });

  test("colmena up - a malformed membership entry neither fails /v1/status nor ends the process", async () => {
    const members = await new Kvm(nc).open("colmena_members");
    await members.put("bogus", packr.pack({}));
    const status = await fetch(`${up.httpUrl}/v1/status`);
    assert.equal(status.status, 200);
    // actors: every node's, the answering node's first.
    const body = (await status.json()) as { nodes: Array<{ id: string }>; actors: Array<{ malformed?: { membership: number } }> };
    assert.ok(body.nodes.every((n) => typeof n.id === "string"));
    // Past the lease: the sweep that used to throw from the heartbeat's finally.
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(up.child.exitCode, null, `the process is alive:\n${up.output().slice(-2000)}`);
    const again = await fetch(`${up.httpUrl}/v1/status`);
    assert.equal(again.status, 200);
    assert.ok(((await again.json()) as typeof body).actors[0]!.malformed!.membership >= 1, "the entry is counted");
    const ready = await fetch(`${up.httpUrl}/ready`);
    assert.equal(ready.status, 200, JSON.stringify(await ready.json()));
  });
});
