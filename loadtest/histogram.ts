import * as hdr from "hdr-histogram-js";

/** Recorded in microseconds: 1 µs to 60 s at 3 significant digits (0.1 % resolution). */
const LOWEST_US = 1;
const HIGHEST_US = 60_000_000;

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** Values above 60 s, recorded as 60 s. */
  overRange: number;
}

/**
 * A latency histogram (HDR): values in milliseconds in, percentiles in
 * milliseconds out. `packed` ones grow with the number of distinct values,
 * for the many small per-second windows of a long run.
 */
export class LatencyHistogram {
  readonly #h: hdr.Histogram;
  #overRange = 0;

  constructor(options: { packed?: boolean } = {}) {
    this.#h = hdr.build({
      lowestDiscernibleValue: LOWEST_US,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
      bitBucketSize: options.packed ? "packed" : 32,
    });
  }

  get count(): number {
    return this.#h.totalCount;
  }

  record(ms: number): void {
    let us = Math.round(ms * 1000);
    if (!(us >= LOWEST_US)) us = LOWEST_US; // 0, negative (clock skew) or NaN: the smallest bucket
    if (us > HIGHEST_US) {
      us = HIGHEST_US;
      this.#overRange += 1;
    }
    this.#h.recordValue(us);
  }

  add(other: LatencyHistogram): void {
    this.#h.add(other.#h);
    this.#overRange += other.#overRange;
  }

  /** Milliseconds at a percentile (0–100); NaN when empty. */
  at(percentile: number): number {
    return this.count === 0 ? NaN : this.#h.getValueAtPercentile(percentile) / 1000;
  }

  summary(): LatencySummary {
    if (this.count === 0) return { count: 0, mean: NaN, p50: NaN, p90: NaN, p95: NaN, p99: NaN, p999: NaN, max: NaN, overRange: 0 };
    const max = this.#h.maxValue / 1000;
    // A percentile is the highest value its bucket stands for; never report one above the largest recorded.
    const at = (p: number) => Math.min(this.at(p), max);
    return {
      count: this.count,
      mean: this.#h.mean / 1000,
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max,
      overRange: this.#overRange,
    };
  }
}
