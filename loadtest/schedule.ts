/**
 * The arrival schedule of an open-loop run: phases of constant or linearly
 * changing rate, laid end to end. Arrival k (k = 0, 1, …) is due when the
 * integral of the rate since the start reaches k, so a constant 50/s phase
 * of 2 s holds exactly 100 arrivals, a ramp from 0 to 100/s over 2 s also 100,
 * and a phase boundary neither loses nor adds one.
 */
export interface Phase {
  /** Results are grouped by it; unique within a scenario. */
  name: string;
  durationMs: number;
  /** Requests per second at the start of the phase. */
  rate: number;
  /** Requests per second at its end (linear in between); default `rate`. */
  toRate?: number;
}

export interface Arrival {
  /** 0-based index over the whole schedule. */
  index: number;
  /** Milliseconds after the start of the schedule at which it should be sent. */
  at: number;
  phase: Phase;
}

export function validatePhases(phases: readonly Phase[]): void {
  if (phases.length === 0) throw new RangeError("a schedule needs at least one phase");
  for (const p of phases) {
    const bad = !(p.durationMs > 0) || !(p.rate >= 0) || !((p.toRate ?? p.rate) >= 0) || !Number.isFinite(p.rate) || !Number.isFinite(p.toRate ?? p.rate);
    if (bad) throw new RangeError(`phase ${JSON.stringify(p.name)}: needs a positive duration and finite rates ≥ 0, got ${JSON.stringify(p)}`);
  }
}

/** Expected number of arrivals of a phase: the area under its rate. */
export function phaseArrivals(p: Phase): number {
  return (((p.rate + (p.toRate ?? p.rate)) / 2) * p.durationMs) / 1000;
}

export function scheduleDurationMs(phases: readonly Phase[]): number {
  return phases.reduce((sum, p) => sum + p.durationMs, 0);
}

/** The due times of every arrival, in order; stops after `maxCount` when given. */
export function* arrivals(phases: readonly Phase[], maxCount = Infinity): Generator<Arrival> {
  validatePhases(phases);
  let index = 0;
  let startMs = 0; // start of the current phase
  let before = 0; // integral of the rate up to the start of the current phase
  for (const phase of phases) {
    const d = phase.durationMs / 1000;
    const r0 = phase.rate;
    const a = ((phase.toRate ?? r0) - r0) / d; // requests/s²
    const area = phaseArrivals(phase);
    while (index < maxCount && index < before + area) {
      const n = index - before; // arrivals owed since the phase started
      const t = Math.abs(a) < 1e-12 ? n / r0 : (-r0 + Math.sqrt(Math.max(0, r0 * r0 + 2 * a * n))) / a;
      // Rounding at the very end of a phase must not push an arrival into the next one.
      yield { index, at: startMs + Math.min(t * 1000, phase.durationMs), phase };
      index += 1;
    }
    before += area;
    startMs += phase.durationMs;
  }
}
