import { capacityTable, findCapacity, type CapacityOptions } from "../capacity.js";
import type { CommonOptions } from "../options.js";
import type { Phase } from "../schedule.js";
import { describeShedTiming, readShedTiming } from "../target/shed-timing.js";
import { check } from "../thresholds.js";
import { runScenario } from "./context.js";

export interface OverloadOptions extends CapacityOptions {
  warmupMs: number;
  /** Duration of the half-capacity baseline and of the 2× step. */
  phaseMs: number;
  /** After the step: back at half capacity, first this long to settle … */
  settleMs: number;
  /** … then this long that must look like the baseline again. */
  recoveryMs: number;
  memoryLimitMb: number;
}

const f = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(1)) : "–");

/**
 * `overload`: capacity first (a search of constant-rate steps), then one
 * open-loop run: half capacity (the baseline), twice capacity (the step), and
 * half capacity again (settle, then recovered). A system with admission
 * control sheds the excess at once with a retry hint and keeps the latency of
 * what it admits; one that queues lets latency grow for as long as the
 * step lasts, and after it.
 */
export function overload(common: CommonOptions, o: OverloadOptions): Promise<number> {
  return runScenario("overload", common, { ...o }, async (ctx) => {
    ctx.log(`warm-up at ${o.startRate}/s for ${o.warmupMs / 1000} s`);
    await ctx.run([{ name: "warm-up", durationMs: o.warmupMs, rate: o.startRate }]);
    ctx.log("capacity search");
    const cap = await findCapacity((phase, rate) => ctx.step(phase, rate, o.stepMs), o, "", (s) => ctx.log(`  ${s.rate}/s: achieved ${s.achieved.toFixed(1)}/s, p99 ${s.p99.toFixed(1)} ms — ${s.pass ? "pass" : `fail (${s.reason})`}`), ctx.signal);
    const tables = [capacityTable("Capacity search", cap)];
    if (cap.capacity === 0) {
      return { thresholds: [check("capacity found (first step passed)", 0, ">=", o.startRate, { unit: "req/s" })], tables, notes: ["even the first step failed: lower --start-rate"] };
    }
    const c = cap.capacity;
    const phases: Phase[] = [
      { name: "baseline ½×", durationMs: o.phaseMs, rate: c / 2 },
      { name: "overload 2×", durationMs: o.phaseMs, rate: 2 * c },
      { name: "settle", durationMs: o.settleMs, rate: c / 2 },
      { name: "recovered", durationMs: o.recoveryMs, rate: c / 2 },
    ];
    ctx.log(`capacity ${c}/s; baseline ${c / 2}/s for ${o.phaseMs / 1000} s, step to ${2 * c}/s for ${o.phaseMs / 1000} s, back to ${c / 2}/s for ${(o.settleMs + o.recoveryMs) / 1000} s`);
    const shedBefore = await readShedTiming(ctx.httpUrl, ctx.options.apiKey);
    await ctx.run(phases);
    const shedAfter = await readShedTiming(ctx.httpUrl, ctx.options.apiKey);
    const serverShed = shedBefore && shedAfter ? describeShedTiming(shedBefore, shedAfter) : undefined;

    const [baseline, step, settle, recovered] = phases.map((p) => ctx.recorder.summary(p.name)) as [ReturnType<typeof ctx.recorder.summary>, ReturnType<typeof ctx.recorder.summary>, ReturnType<typeof ctx.recorder.summary>, ReturnType<typeof ctx.recorder.summary>];
    const all = ctx.recorder.summary(phases.map((p) => p.name), "overload run");
    const baseP99 = baseline.ops.query?.ok.p99 ?? NaN;
    const shedAll = all.shed;
    tables.push({
      title: "Overload run",
      columns: ["phase", "offered/s", "achieved/s", "ok p50 ms", "ok p99 ms", "shed", "shed p99 ms", "retry hint", "errors", "dropped"],
      rows: [baseline, step, settle, recovered].map((p) => [p.name, f(p.offeredRate), f(p.achievedRate), f(p.ops.query?.ok.p50 ?? NaN), f(p.ops.query?.ok.p99 ?? NaN), p.shed, f(p.shedLatency.p99), `${p.shedWithRetryHint}/${p.shed}`, p.errors, p.dropped]),
    });
    await ctx.monitor.poll();
    const mem = ctx.monitor.summary();
    return {
      thresholds: [
        check("admitted p99 during 2× ≤ 3× p99 at half capacity", step.ops.query?.ok.p99 ?? NaN, "<=", 3 * baseP99, { unit: "ms" }),
        check("shed answers (429/503) carrying Retry-After", shedAll ? all.shedWithRetryHint / shedAll : NaN, "==", 1, { digits: 3, vacuous: "none shed" }),
        check("p99 of shed answers", all.shedLatency.p99, "<=", 10, { unit: "ms", vacuous: "none shed" }),
        check("errors other than the documented shed answers", all.errors, "==", 0, { digits: 0 }),
        check("server memory growth (max − first RSS)", mem.growthMb, "<=", o.memoryLimitMb, { unit: "MiB" }),
        check(`p99 from ${o.settleMs / 1000} s after the step ≤ 1.5× baseline`, recovered.ops.query?.ok.p99 ?? NaN, "<=", 1.5 * baseP99, { unit: "ms" }),
      ],
      tables,
      notes: [
        `capacity ${c} req/s (p99 ${f(cap.p99AtCapacity)} ms there); the step offered ${2 * c}/s, the server answered ${f(step.achievedRate)}/s successfully and shed ${step.shed} of ${step.scheduled} (${f((100 * step.shed) / Math.max(1, step.scheduled))}%)`,
        `settle phase (the ${o.settleMs / 1000} s right after the step): ok p99 ${f(settle.ops.query?.ok.p99 ?? NaN)} ms`,
        ...(serverShed ? [serverShed] : []),
      ],
      phases: ["warm-up", ...cap.steps.map((s) => s.phase), ...phases.map((p) => p.name)],
    };
  });
}
