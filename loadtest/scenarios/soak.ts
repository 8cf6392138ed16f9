import type { CommonOptions } from "../options.js";
import { check } from "../thresholds.js";
import { runScenario } from "./context.js";

export interface SoakOptions {
  rate: number;
  durationMs: number;
  p99Ms: number;
  /** Threshold: the server's memory growth over the run, MiB. */
  memoryLimitMb: number;
}

/** `soak`: one fixed rate for a long time; memory growth and error counts. */
export function soak(common: CommonOptions, o: SoakOptions): Promise<number> {
  return runScenario("soak", common, { ...o }, async (ctx) => {
    ctx.log(`${o.rate}/s for ${o.durationMs / 1000} s`);
    await ctx.run([{ name: "soak", durationMs: o.durationMs, rate: o.rate }]);
    const s = ctx.recorder.summary("soak");
    await ctx.monitor.poll();
    const mem = ctx.monitor.summary();
    const slope = memorySlope(ctx.monitor.samples.map((x) => [x.t, x.totalMb]));
    return {
      thresholds: [
        check("errors (anything but 2xx)", s.errors + s.shed, "==", 0, { digits: 0 }),
        check("achieved / offered", s.achievedRate / o.rate, ">=", 0.95, { digits: 3 }),
        check("p99 of successful queries", s.ops.query?.ok.p99 ?? NaN, "<=", o.p99Ms, { unit: "ms" }),
        check("server memory growth (max − first RSS)", mem.growthMb, "<=", o.memoryLimitMb, { unit: "MiB" }),
        check("requests dropped by the client", s.dropped, "==", 0, { digits: 0 }),
      ],
      notes: [`memory trend over the second half of the run: ${Number.isFinite(slope) ? `${(slope * 60).toFixed(2)} MiB/min` : "too few samples"} (least squares)`],
    };
  });
}

/** Least-squares slope (MiB per second) over the second half of the samples. */
export function memorySlope(points: Array<[number, number]>): number {
  const half = points.slice(Math.floor(points.length / 2));
  if (half.length < 3) return NaN;
  const n = half.length;
  const mx = half.reduce((s, [x]) => s + x, 0) / n;
  const my = half.reduce((s, [, y]) => s + y, 0) / n;
  const sxy = half.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const sxx = half.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return sxx > 0 ? sxy / sxx : NaN;
}
