import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { z } from "zod";
import type { NatsServer } from "../../nats/index.js";
import { defineActor, isColmenaError, type ActorSystem } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startTestSystem } from "../helpers/system.js";

/** Opens whatever log or bucket it is told to: only its declared ones are given to it. */
const Keeper = defineActor({
  kind: "keeper",
  placement: "pooled",
  stores: { logs: ["events"], buckets: ["things"] },
  messages: { open: z.object({ what: z.enum(["log", "bucket"]), name: z.string() }) },
  create: (ctx) => ({
    open: async (m) => {
      if (m.what === "log") return (await ctx.storage.log({ name: m.name, description: "test" })).stream;
      await (await ctx.storage.bucket(m.name)).put("k", 1);
      return m.name;
    },
  }),
});

let server: NatsServer;
let system: ActorSystem;
before(async () => {
  server = await startTestServer();
  system = await startTestSystem(server.url, [Keeper]);
});
after(async () => {
  await system?.shutdown();
  await server?.stop();
});

test("storage - a kind opens the logs and buckets it declares in stores", async () => {
  assert.equal(await system.pool(Keeper).ask({ type: "open", what: "log", name: "events" }), "colmena_events");
  assert.equal(await system.pool(Keeper).ask({ type: "open", what: "bucket", name: "things" }), "things");
  assert.deepEqual(Keeper.stores, { logs: ["events"], buckets: ["things"] });
});

test("storage - a log or bucket a kind does not declare is refused with INVALID naming the kind, the name and what it declares", async () => {
  for (const [what, name, declared] of [
    ["log", "secrets", "events"],
    ["bucket", "members", "things"],
  ] as const) {
    await assert.rejects(
      system.pool(Keeper).ask({ type: "open", what, name }),
      (err: unknown) => isColmenaError(err) && err.code === "INVALID" && err.message.includes(`keeper opens ${what} "${name}"`) && err.message.includes(declared),
    );
  }
});
