import { cpus } from "node:os";
import { capacityTable, findCapacity, type CapacityOptions, type CapacityResult } from "../capacity.js";
import type { CommonOptions } from "../options.js";
import { waitNodes } from "../target/seed.js";
import { spawnNode, type Spawned } from "../target/spawn.js";
import type { MemorySample } from "../target/status.js";
import { check, type Threshold } from "../thresholds.js";
import { runScenario } from "./context.js";

export interface ScalingOptions extends CapacityOptions {
  /** Nodes in the cluster at each measurement: the `colmena up` plus size − 1 `colmena node`s. */
  sizes: number[];
  /** Roles of the extra nodes. */
  roles: string[];
  warmupMs: number;
  /** Optional threshold: capacity at the largest size over capacity at the smallest. */
  minSpeedup?: number;
}

const f = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(1)) : "–");

/** Mean in-flight of the nodes in the bridge's process (colmena up, with its actor thread) and of all the others together. */
function workShare(window: MemorySample[]): string {
  const first = window.find((s) => s.bridge)?.bridge;
  if (window.length === 0 || first === undefined) return "–";
  let mine = 0;
  let others = 0;
  for (const s of window) {
    const up = s.processOf[first] ?? first;
    for (const [id, n] of Object.entries(s.inFlight)) {
      if ((s.processOf[id] ?? id) === up) mine += n;
      else others += n;
    }
  }
  return `${(mine / window.length).toFixed(1)} / ${(others / window.length).toFixed(1)}`;
}

/**
 * `scaling`: the same capacity search at 1, 2 and 4 nodes (by default), from
 * one command. Extra nodes are `colmena node --roles <roles> --nats <url>`
 * processes started here and joined to the target's NATS. With --spawn each
 * size gets a fresh `colmena up`; with --url the target's cluster grows.
 */
export function scaling(common: CommonOptions, o: ScalingOptions): Promise<number> {
  return runScenario("scaling", common, { ...o }, async (ctx) => {
    if (!ctx.natsUrl) throw new Error("scaling starts nodes that join the target's NATS: use --spawn, or --url with --nats");
    const sizes = [...o.sizes].sort((a, b) => a - b);
    let extra: Spawned[] = [];
    const stopExtra = async () => {
      for (const n of extra.reverse()) await n.stop().catch(() => undefined);
      extra = [];
    };
    const results: Array<{ size: number; cap: CapacityResult; fromS: number; toS: number }> = [];
    try {
      for (const [i, size] of sizes.entries()) {
        if (ctx.signal.aborted) break;
        if (ctx.spawned && i > 0) {
          // A fresh cluster per size: what one size's search left behind (sessions, caches, memory) must not weigh on the next.
          await stopExtra();
          await ctx.respawn();
        }
        while (extra.length < size - 1) {
          ctx.log(`starting node ${extra.length + 2} (colmena node --roles ${o.roles.join(",")})`);
          extra.push(await spawnNode(ctx.natsUrl!, o.roles, { ...(ctx.nodeCreds !== undefined && { creds: ctx.nodeCreds }) }));
        }
        await waitNodes(ctx.httpUrl, size);
        await new Promise((r) => setTimeout(r, 1_000)); // let the pools see their new members
        ctx.log(`${size} node${size > 1 ? "s" : ""}: warm-up at ${o.startRate}/s, then capacity search`);
        const fromS = (performance.now() - ctx.origin) / 1000;
        await ctx.run([{ name: `n=${size}: warm-up`, durationMs: o.warmupMs, rate: o.startRate }]);
        const cap = await findCapacity((phase, rate) => ctx.step(phase, rate, o.stepMs), o, `n=${size}: `, (s) => ctx.log(`  ${s.rate}/s: achieved ${s.achieved.toFixed(1)}/s, p99 ${s.p99.toFixed(1)} ms — ${s.pass ? "pass" : `fail (${s.reason})`}`), ctx.signal);
        results.push({ size, cap, fromS, toS: (performance.now() - ctx.origin) / 1000 });
      }
    } finally {
      await stopExtra();
    }
    const base = results[0]?.cap.capacity ?? NaN;
    const thresholds: Threshold[] = results.map(({ size, cap }) => check(`capacity measured with ${size} node${size > 1 ? "s" : ""}`, cap.capacity, ">=", o.startRate, { unit: "req/s" }));
    const largest = results[results.length - 1];
    if (o.minSpeedup !== undefined && largest) thresholds.push(check(`capacity at ${largest.size} nodes / at ${sizes[0]}`, largest.cap.capacity / base, ">=", o.minSpeedup, { digits: 2 }));
    const cores = cpus().length;
    const notes = [
      `extra nodes run roles ${o.roles.join(",")}; the first node (colmena up) keeps the bridge, the index shards and ingest (the pipeline, with its answer cache, runs on every node with the session role)`,
      ctx.spawned ? "each size ran on a fresh cluster (colmena up started anew, documents ingested again)" : "the target's cluster grew between sizes (nodes joined its NATS); what earlier sizes left behind weighs on later ones",
      "mean in-flight: each node's `load.inFlight` from GET /v1/status, sampled once a second during that size's search — how much of the work the added nodes took",
      "server memory is summed over the nodes of the cluster measured at the time",
    ];
    const most = Math.max(...sizes);
    if (cores < most + 2) notes.push(`this machine has ${cores} CPUs for the load generator, nats-server and up to ${most} Colmena processes: they share cores, so added nodes cannot add CPU here and the sweep shows the cost of the extra hops rather than added capacity`);
    return {
      thresholds,
      tables: [
        {
          title: "Scaling sweep",
          columns: ["nodes", "capacity req/s", "p99 at capacity ms", "p50 at capacity ms", "median p99 of passing steps ms", "capacity ÷ first size", "mean in-flight: up / added nodes", "max memory MiB"],
          rows: results.map(({ size, cap, fromS, toS }) => {
            const at = cap.steps.find((s) => s.pass && s.rate === cap.capacity);
            const window = ctx.monitor.samples.filter((s) => s.t >= fromS && s.t <= toS);
            return [
              size,
              cap.capacity,
              f(cap.p99AtCapacity),
              f(at?.p50 ?? NaN),
              f(cap.referenceP99),
              Number.isFinite(cap.capacity / base) ? Number((cap.capacity / base).toFixed(2)) : "–",
              workShare(window),
              window.length ? Math.max(...window.map((s) => s.totalMb)) : "–",
            ];
          }),
        },
        ...results.map(({ size, cap }) => capacityTable(`Capacity search with ${size} node${size > 1 ? "s" : ""}`, cap)),
      ],
      notes,
    };
  });
}
