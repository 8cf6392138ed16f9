import type { PhaseSummary } from "./recorder.js";
import type { Table } from "./report/report.js";

export interface CapacityOptions {
  /** First offered rate (requests/s). */
  startRate: number;
  /** Each step offers this many times the last (until one fails). */
  growth: number;
  stepMs: number;
  maxRate: number;
  /** Bisections between the last passing and the first failing rate. */
  refineSteps: number;
  /**
   * A step fails when its p99 exceeds max(p99Factor × reference, reference +
   * p99FloorMs); the reference is the median p99 of the steps that passed so
   * far (the first step's alone at first), so one noisy low step does not
   * decide.
   */
  p99Factor: number;
  p99FloorMs: number;
}

export interface CapacityStep {
  phase: string;
  rate: number;
  achieved: number;
  p50: number;
  p99: number;
  shed: number;
  errors: number;
  dropped: number;
  pass: boolean;
  reason: string;
}

export interface CapacityResult {
  /** The highest offered rate that passed (0 when even the first did not). */
  capacity: number;
  /** p99 of successful answers at that rate, ms. */
  p99AtCapacity: number;
  /** The reference p99 at the end: median over the passing steps, ms. */
  referenceP99: number;
  steps: CapacityStep[];
}

/** Runs one constant-rate step (its own open-loop run, drained) and returns its summary. */
export type MeasureStep = (phase: string, rate: number) => Promise<PhaseSummary>;

const round = (r: number) => (r >= 10 ? Math.round(r) : Number(r.toFixed(1)));

/**
 * Capacity: constant-rate steps growing geometrically until one fails —
 * achieved below 95 % of offered, p99 blown up against the steps before, or
 * more than 1 % of requests shed, failed or dropped — then a few bisections
 * between the last pass and that failure. The capacity is the highest rate
 * that passed.
 */
export async function findCapacity(measure: MeasureStep, o: CapacityOptions, prefix: string, onStep?: (s: CapacityStep) => void, signal?: AbortSignal): Promise<CapacityResult> {
  const steps: CapacityStep[] = [];
  const reference = () => median(steps.filter((s) => s.pass).map((s) => s.p99));
  const judge = async (rate: number): Promise<CapacityStep> => {
    const phase = `${prefix}search ${steps.length + 1} @ ${rate}/s`;
    const s = await measure(phase, rate);
    const okLatency = s.ops.query?.ok ?? s.ops.ingest?.ok;
    const p99 = okLatency?.p99 ?? NaN;
    const ref = steps.length === 0 ? p99 : reference();
    const limit = Math.max(o.p99Factor * ref, ref + o.p99FloorMs);
    const bad = s.shed + s.errors + s.dropped;
    const reasons: string[] = [];
    if (!(s.achievedRate >= 0.95 * rate)) reasons.push(`achieved ${s.achievedRate.toFixed(1)}/s < 95% of offered`);
    if (!(p99 <= limit)) reasons.push(`p99 ${p99.toFixed(1)} ms > ${limit.toFixed(1)} ms`);
    if (bad > 0.01 * s.scheduled) reasons.push(`${bad} of ${s.scheduled} shed, failed or dropped`);
    const step: CapacityStep = { phase, rate, achieved: s.achievedRate, p50: okLatency?.p50 ?? NaN, p99, shed: s.shed, errors: s.errors, dropped: s.dropped, pass: reasons.length === 0, reason: reasons.join("; ") || "ok" };
    steps.push(step);
    onStep?.(step);
    return step;
  };

  let pass: CapacityStep | undefined;
  let fail: CapacityStep | undefined;
  for (let rate = round(o.startRate); rate <= o.maxRate && !signal?.aborted; rate = round(rate * o.growth)) {
    const step = await judge(rate);
    if (!step.pass) {
      fail = step;
      break;
    }
    pass = step;
  }
  if (pass && fail) {
    for (let i = 0; i < o.refineSteps && !signal?.aborted; i++) {
      const mid = round(Math.sqrt(pass.rate * fail.rate));
      if (mid <= pass.rate || mid >= fail.rate) break;
      const step = await judge(mid);
      if (step.pass) pass = step;
      else fail = step;
    }
  }
  return { capacity: pass?.rate ?? 0, p99AtCapacity: pass?.p99 ?? NaN, referenceP99: reference(), steps };
}

function median(xs: number[]): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function capacityTable(title: string, r: CapacityResult): Table {
  const f = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(1)) : "–");
  return {
    title,
    columns: ["step", "offered/s", "achieved/s", "p50 ms", "p99 ms", "shed", "errors", "dropped", "verdict"],
    rows: r.steps.map((s) => [s.phase, s.rate, f(s.achieved), f(s.p50), f(s.p99), s.shed, s.errors, s.dropped, s.pass ? "pass" : `fail: ${s.reason}`]),
  };
}
