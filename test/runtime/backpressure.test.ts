import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { z } from "zod";
import { defineActor, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

/** A sink whose handler waits on a gate, so the mailbox fills while nothing is processed. */
let gate: { open: Promise<void>; release: () => void };
const newGate = () => {
  let release!: () => void;
  gate = { open: new Promise<void>((r) => (release = r)), release };
};
let processed = 0;
const Sink = defineActor({
  kind: "sink",
  placement: "pooled",
  mailbox: { capacity: 100, highWatermark: 80, lowWatermark: 20 },
  messages: { put: z.object({ i: z.number() }) },
  create: () => ({
    put: async (m) => {
      await gate.open;
      processed++;
      return m.i;
    },
  }),
});

describe("backpressure - flooding one actor", () => {
  let server: NatsServer;
  let host: ActorSystem;
  let client: ActorSystem;
  before(async () => {
    server = await startTestServer();
    host = await startTestSystem(server.url, [Sink], { nodeId: "bp-host" });
    client = await startTestSystem(server.url, [], { nodeId: "bp-client" });
  });
  after(async () => {
    await client?.shutdown();
    await host?.shutdown();
    await server?.stop();
  });

  for (const via of ["same node", "NATS"] as const) {
    test(`backpressure - ${via}: the excess is refused with OVERLOADED at once, every admitted message is processed`, async () => {
      newGate();
      processed = 0;
      const system = via === "same node" ? host : client;
      const heapBefore = process.memoryUsage().heapUsed;
      const sent = 5_000;
      const outcomes = Array.from({ length: sent }, (_, i) =>
        system
          .pool(Sink)
          .ask({ type: "put", i }, { timeoutMs: 30_000 })
          .then(
            () => "ok" as const,
            (e: unknown) => e,
          ),
      );
      // While the gate is shut nothing completes, so whatever settles now was refused at admission.
      const refused: unknown[] = [];
      for (const o of outcomes) void o.then((r) => r !== "ok" && refused.push(r));
      for (let i = 0; i < 500 && refused.length < sent - 101; i++) await new Promise((r) => setTimeout(r, 10));
      const cell = host.stats().kinds[0]!.activations[0]!;
      assert.equal(cell.backpressure, "shedding");
      assert.ok(cell.mailbox <= 100, `mailbox holds ${cell.mailbox}, capacity 100`);
      assert.ok(refused.length >= sent - 101, `refused ${refused.length} of ${sent} before anything was processed`);
      for (const e of refused) {
        assert.ok(isColmenaError(e, "OVERLOADED"), `refusal is OVERLOADED: ${String(e)}`);
        assert.ok(e.retryable && typeof e.retryAfterMs === "number" && e.retryAfterMs > 0);
      }
      assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, "heap growth stays bounded");

      gate.release();
      const results = await Promise.all(outcomes);
      const admitted = results.filter((r) => r === "ok").length;
      assert.equal(admitted + refused.length, sent);
      assert.equal(processed, admitted, "every admitted message was processed");
      const after = host.stats().kinds[0]!.activations[0]!;
      assert.equal(after.backpressure, "accepting");
      assert.equal(after.lifecycle, "running");
      assert.equal(await system.pool(Sink).ask({ type: "put", i: -1 }), -1, "accepts again");
    });
  }
});
