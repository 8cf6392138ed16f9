import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pino } from "pino";
import { z } from "zod";
import { defineActor, isColmenaError, newTrace, type ActorSystem } from "../../runtime/index.js";
import { SLICE_MS } from "../../runtime/cell/scheduler.js";
import type { NatsServer } from "../../nats/index.js";
import { Echo } from "../fixtures/runtime/kinds.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

/** Relays to Echo on whichever node hosts it, logging on the way, so one request spans two nodes. */
const Relay = defineActor({
  kind: "relay",
  placement: "pooled",
  messages: { relay: z.object({}) },
  create: () => ({
    relay: async (_m, call) => {
      call.log.info("relaying");
      const who = await call.refs.pool(Echo).ask({ type: "whoami" });
      return { mine: call.trace?.traceId, theirs: who.traceId, node: who.node };
    },
  }),
});

/** A CPU-bound handler: spins for `ms` of wall-clock time, so a backlog of them is a long stretch of JS work. */
let spun = 0;
const Busy = defineActor({
  kind: "busy",
  placement: "pooled",
  instances: 2,
  mailbox: { capacity: 1_000 },
  messages: { spin: z.object({ ms: z.number() }) },
  create: () => ({
    spin: (m: { ms: number }) => {
      const until = performance.now() + m.ms;
      while (performance.now() < until);
      spun++;
    },
  }),
});

/** Keeps every message it is told, to see what object the handler got. */
const seen: unknown[] = [];
const Keeper = defineActor({
  kind: "keeper",
  placement: "pooled",
  messages: { keep: z.object({ value: z.unknown(), n: z.number().default(1) }) },
  create: () => ({
    keep: (m) => {
      seen.push(m);
    },
  }),
});

const lines: Array<{ msg: string; trace_id?: string; span_id?: string; node?: string }> = [];
const collector = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split("\n")) if (l) lines.push(JSON.parse(l));
    done();
  },
});

describe("runtime - same node", () => {
  let server: NatsServer;
  let a: ActorSystem;
  let b: ActorSystem;
  before(async () => {
    server = await startTestServer();
    a = await startTestSystem(server.url, [Echo, Relay, Busy, Keeper], { nodeId: "local-a", log: pino({ base: { node: "local-a" } }, collector) });
    b = await startTestSystem(server.url, [Relay], { nodeId: "local-b", log: pino({ base: { node: "local-b" } }, collector) });
  });
  after(async () => {
    await b?.shutdown();
    await a?.shutdown();
    await server?.stop();
  });

  test("runtime - same-node ask, stream and tell behave as remote ones do", async () => {
    const echo = a.pool(Echo);
    assert.equal((await echo.ask({ type: "whoami" })).node, "local-a");
    const value = { nested: [1, 2] };
    assert.equal(await echo.ask({ type: "echo", value }), value, "same node: the very object, no encoding");
    const chunks: number[] = [];
    for await (const c of echo.stream({ type: "count", n: 50 })) chunks.push(c);
    assert.equal(chunks.length, 50);
    await assert.rejects(echo.ask({ type: "fail", code: "INVALID" }), (e) => isColmenaError(e, "INVALID"));
    await assert.rejects(echo.ask({ type: "slow", ms: 500 }, { timeoutMs: 20 }), (e) => isColmenaError(e, "TIMEOUT"));
  });

  test("runtime - a same-node message the schema leaves as it is arrives as the sender's object; one it changes arrives as the parsed copy", async () => {
    const keeper = a.pool(Keeper);
    const whole = { type: "keep", value: { nested: true }, n: 2 } as const;
    const defaulted = { type: "keep", value: 1 } as const;
    const extra = { type: "keep", value: 2, n: 3, stray: "x" } as { type: "keep"; value: number; n: number };
    for (const m of [whole, defaulted, extra]) keeper.tell(m);
    await waitFor("three messages kept", () => seen.length === 3);
    assert.equal(seen[0], whole, "nothing to change: no copy");
    assert.deepEqual(seen[1], { type: "keep", value: 1, n: 1 }, "the default is filled in");
    assert.notEqual(seen[1], defaulted);
    assert.deepEqual(seen[2], { type: "keep", value: 2, n: 3 }, "a field the schema does not know is stripped");
  });

  test("runtime - a backlog of CPU-bound local work lets the event loop in every time slice", async () => {
    const busy = a.pool(Busy);
    const spins = 200;
    for (let i = 0; i < spins; i++) busy.tell({ type: "spin", ms: 1 });
    // Stand-in for a socket callback waiting for the thread: it runs in the next turn of the event loop.
    const spunAtProbe = await new Promise<number>((resolve) => setImmediate(() => resolve(spun)));
    await waitFor("every spin ran", () => spun === spins);
    assert.ok(spunAtProbe <= SLICE_MS + 2, `the first poll of I/O came after ${spunAtProbe} spins of 1 ms (slice ${SLICE_MS} ms)`);
    assert.equal(spun, spins, "every message still ran");
  });

  test("runtime - cancelling a same-node stream stops the producer", async () => {
    const echo = a.pool(Echo);
    const before = (await echo.ask({ type: "probes" })).cancelled;
    const s = echo.stream({ type: "count", n: 1_000_000, everyMs: 1 });
    let seen = 0;
    for await (const _ of s) if (++seen === 5) s.cancel();
    await sleep(30);
    assert.equal((await echo.ask({ type: "probes" })).cancelled, before + 1);
    assert.equal(seen, 5);
  });

  test("runtime - one trace id follows a request across nodes and into every log line", async () => {
    const trace = newTrace();
    const out = await b.pool(Relay).ask({ type: "relay" }, { trace });
    assert.equal(out.node, "local-a", "the relay on b reached Echo on a over NATS");
    assert.equal(out.mine, trace.traceId);
    assert.equal(out.theirs, trace.traceId);
    const relayed = lines.filter((l) => l.msg === "relaying");
    assert.ok(relayed.length > 0 && relayed.every((l) => l.trace_id?.length === 32 && l.span_id?.length === 16));
    assert.ok(relayed.some((l) => l.trace_id === trace.traceId && l.node === "local-b"));
  });

  test("runtime - refs reject bad keys and the wrong placement up front", () => {
    assert.throws(() => a.pool(defineActor({ ...Relay, kind: "k", placement: "keyed" })), (e) => isColmenaError(e, "INVALID"));
    const Keyed = defineActor({ kind: "kk", placement: "keyed", messages: { x: z.object({}) }, create: () => ({ x: () => 1 }) });
    assert.throws(() => a.ref(Keyed, "has space"), (e) => isColmenaError(e, "INVALID"));
    assert.throws(() => a.ref(Keyed, "a.b"), (e) => isColmenaError(e, "INVALID"));
    assert.throws(() => a.ref(Keyed, "*"), (e) => isColmenaError(e, "INVALID"));
  });
});
