import type { CommonOptions } from "../options.js";
import { check } from "../thresholds.js";
import { runScenario } from "./context.js";

export interface MixedOptions {
  rate: number;
  ingestRate: number;
  docsPerRequest: number;
  durationMs: number;
  p99Ms: number;
  ingestP99Ms: number;
}

/** `mixed`: queries and ingest batches at the same time, each at its own constant rate. */
export function mixed(common: CommonOptions, o: MixedOptions): Promise<number> {
  return runScenario("mixed", common, { ...o }, async (ctx) => {
    ctx.log(`${o.rate} queries/s and ${o.ingestRate} ingest requests/s (${o.docsPerRequest} documents each) for ${o.durationMs / 1000} s`);
    await Promise.all([
      ctx.run([{ name: "query", durationMs: o.durationMs, rate: o.rate }]),
      ctx.run([{ name: "ingest", durationMs: o.durationMs, rate: o.ingestRate }], { next: () => ({ op: "ingest", body: ctx.workload.ingest(o.docsPerRequest) }) }),
    ]);
    const q = ctx.recorder.summary("query");
    const i = ctx.recorder.summary("ingest");
    return {
      thresholds: [
        check("query errors (anything but 2xx)", q.errors + q.shed, "==", 0, { digits: 0 }),
        check("ingest errors (anything but 2xx)", i.errors + i.shed, "==", 0, { digits: 0 }),
        check("queries achieved / offered", q.achievedRate / o.rate, ">=", 0.95, { digits: 3 }),
        check("ingests achieved / offered", i.achievedRate / o.ingestRate, ">=", 0.95, { digits: 3 }),
        check("p99 of successful queries", q.ops.query?.ok.p99 ?? NaN, "<=", o.p99Ms, { unit: "ms" }),
        check("p99 of successful ingests (stored durably)", i.ops.ingest?.ok.p99 ?? NaN, "<=", o.ingestP99Ms, { unit: "ms" }),
        check("requests dropped by the client", q.dropped + i.dropped, "==", 0, { digits: 0 }),
      ],
      notes: ["ingest changes the index version, which retires cached answers: the cached share here is lower than in steady"],
    };
  });
}
