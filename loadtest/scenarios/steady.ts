import type { CommonOptions } from "../options.js";
import type { Phase } from "../schedule.js";
import { check } from "../thresholds.js";
import { runScenario } from "./context.js";

export interface SteadyOptions {
  rate: number;
  durationMs: number;
  /** A linear ramp from 0 to `rate` first. */
  rampMs?: number;
  /** Constant-rate steps after the main phase. */
  steps: Array<{ rate: number; durationMs: number }>;
  maxRequests?: number;
  /** Threshold: p99 of successful queries, ms. */
  p99Ms: number;
}

/** `steady`: queries only, at a constant rate (optionally ramped up to, and stepped after). */
export function steady(common: CommonOptions, o: SteadyOptions): Promise<number> {
  return runScenario("steady", common, { ...o }, async (ctx) => {
    const phases: Phase[] = [
      ...(o.rampMs ? [{ name: "ramp", durationMs: o.rampMs, rate: 0, toRate: o.rate }] : []),
      { name: "steady", durationMs: o.durationMs, rate: o.rate },
      ...o.steps.map((s, i) => ({ name: `step ${i + 1} @ ${s.rate}/s`, ...s })),
    ];
    ctx.log(`${o.rate}/s for ${o.durationMs / 1000} s${o.rampMs ? ` after a ${o.rampMs / 1000} s ramp` : ""}${o.steps.length ? `, then ${o.steps.length} steps` : ""}`);
    await ctx.run(phases, o.maxRequests !== undefined ? { maxRequests: o.maxRequests } : {});
    const all = ctx.recorder.summary(phases.map((p) => p.name), "all phases");
    const offered = all.scheduled / (all.durationMs / 1000);
    return {
      thresholds: [
        check("errors (anything but 2xx)", all.errors + all.shed, "==", 0, { digits: 0 }),
        check("achieved / offered", all.achievedRate / offered, ">=", 0.95, { digits: 3 }),
        check("p99 of successful queries", all.ops.query?.ok.p99 ?? NaN, "<=", o.p99Ms, { unit: "ms" }),
        check("requests dropped by the client", all.dropped, "==", 0, { digits: 0 }),
      ],
    };
  });
}
