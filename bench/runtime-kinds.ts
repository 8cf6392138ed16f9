import { z } from "zod";
import { defineActor } from "../runtime/index.js";

/** The payload every case sends, actor and raw alike. */
export const PAYLOAD = { text: "what is the retention policy of a JetStream stream?", n: 42, tags: ["a", "b"] };

let received = 0;

/** Echoes its value (ask cases) and counts tells (tell cases). */
export const Bench = benchKind("bench");

/** The same actor under another name, hosted by one node only: the same-node case measures local delivery alone. */
export const LocalBench = benchKind("bench-local");

function benchKind(kind: string) {
  return defineActor({
    kind,
    placement: "pooled",
    concurrency: 256,
    mailbox: { capacity: 65_536 },
    messages: {
      echo: z.object({ value: z.unknown() }),
      hit: z.object({ value: z.unknown() }),
      received: z.object({}),
    },
    create: () => ({
      echo: (m) => m.value,
      hit: () => {
        received++;
      },
      received: () => received,
    }),
  });
}
