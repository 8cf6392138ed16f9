import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { waitFor } from "../helpers/wait.js";
import { json, startBridge, type TestBridge } from "./http-harness.js";

const LIMIT = 8;
const ABORTS_PER_WAY = 100;

/** A raw HTTP/1.1 request on its own socket, closed by `leave` whenever the client means to go. */
function rawClient(port: number, head: string, leave: (socket: Socket, received: () => string) => Promise<void> | void): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.setEncoding("utf8").on("data", (d: string) => (data += d));
    socket.on("error", () => undefined);
    socket.once("close", () => resolve());
    socket.once("connect", () => {
      socket.write(head);
      // A leave that times out still leaves: what the test checks is what the bridge does afterwards.
      void Promise.resolve()
        .then(() => leave(socket, () => data))
        .catch(() => undefined)
        .finally(() => socket.destroy());
    });
  });
}

const post = (path: string, headers: Record<string, string>) =>
  `POST ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`;

describe("http - clients that leave early", () => {
  let bridge: TestBridge;
  before(async () => {
    // A fixed limit, so "full concurrency" is one number whatever the latencies seen.
    bridge = await startBridge({ admission: { initialLimit: LIMIT, minLimit: LIMIT, maxLimit: LIMIT, tolerance: 1.5 }, requestTimeoutMs: 60_000, sseHeartbeatMs: 0 });
    bridge.api.stallStreamAfter = 1;
  });
  after(() => bridge.close());

  const inFlight = async () => (await bridge.registry.getSingleMetric("colmena_http_requests_in_flight")!.get()).values[0]!.value;
  const received = (op: string) => bridge.api.requests.filter((r) => r.op === op).length;

  test("http - 500 aborted requests, every way a client can leave, and the bridge admits its full concurrency again", async () => {
    const body = JSON.stringify({ question: "bees?" });
    const ways: Record<string, (i: number) => Promise<void>> = {
      "before the headers": () => rawClient(bridge.port, "POST /v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: applic", () => undefined),
      "mid-body": () => rawClient(bridge.port, post("/v1/query", { "content-type": "application/json", "content-length": "100" }) + body.slice(0, 5), () => new Promise((r) => setTimeout(r, 5))),
      "malformed chunked body": () =>
        rawClient(bridge.port, post("/v1/query", { "content-type": "application/json", "transfer-encoding": "chunked" }) + "zz\r\nnot a chunk\r\n", (_s, got) => waitFor("an answer or a close", () => got().length > 0, 2_000).catch(() => undefined)),
      "while the answer is worked on": () => {
        const before = received("query");
        return rawClient(bridge.port, post("/v1/query", { "content-type": "application/json", "content-length": String(body.length) }) + body, (_s, got) =>
          waitFor("the api to get the question", () => received("query") > before || got().length > 0, 2_000),
        );
      },
      "after the first event of a stream": () => {
        const streamed = JSON.stringify({ question: "bees?", stream: true });
        return rawClient(bridge.port, post("/v1/query", { "content-type": "application/json", "content-length": String(streamed.length) }) + streamed, (_s, got) =>
          waitFor("the first event", () => /event: meta|HTTP\/1\.1 [45]/.test(got()), 2_000),
        );
      },
    };
    bridge.api.stallQuery = true;
    for (const [, leave] of Object.entries(ways)) {
      // In rounds of the limit, so each aborted request was admitted rather than refused.
      for (let i = 0; i < ABORTS_PER_WAY; i += LIMIT) await Promise.all(Array.from({ length: Math.min(LIMIT, ABORTS_PER_WAY - i) }, (_, j) => leave(i + j)));
    }
    await waitFor("the in-flight gauge back to 0", async () => (await inFlight()) === 0);

    // Full concurrency: LIMIT stalled questions are all admitted, the next one is refused.
    const before = received("query");
    const controller = new AbortController();
    const held = Array.from({ length: LIMIT }, () => request(`${bridge.url}/v1/query`, { ...json({ question: "bees?" }), signal: controller.signal }).catch(() => undefined));
    const answers = await Promise.race([Promise.all(held), waitFor("every held question to reach the api", () => received("query") - before === LIMIT, 5_000).catch(() => undefined)]);
    const admitted = received("query") - before;
    const refused = Array.isArray(answers) ? answers.filter((r) => r?.statusCode === 429).length : 0;
    const extra = await request(`${bridge.url}/v1/query`, json({ question: "one too many" }));
    await extra.body.dump();
    controller.abort();
    await Promise.all(held);
    assert.equal(admitted, LIMIT, `admitted ${admitted} of ${LIMIT} after the aborts (${refused} answered 429)`);
    assert.equal(extra.statusCode, 429, "the limit itself still holds");
    await waitFor("the in-flight gauge back to 0", async () => (await inFlight()) === 0);
  });

  test("http - a request past its deadline gives its slot back", async () => {
    const short = await startBridge({ admission: { initialLimit: 2, minLimit: 2, maxLimit: 2, tolerance: 1.5 }, requestTimeoutMs: 20 });
    try {
      short.api.stallQuery = true;
      for (let i = 0; i < 6; i++) {
        const res = await request(`${short.url}/v1/query`, json({ question: "slow bees" }));
        await res.body.dump();
        assert.equal(res.statusCode, 504, `request ${i}`);
      }
    } finally {
      await short.close();
    }
  });
});
