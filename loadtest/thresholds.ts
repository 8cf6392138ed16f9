/** A pass/fail criterion of a scenario, with the figure measured and the limit, both as text. */
export interface Threshold {
  name: string;
  pass: boolean;
  actual: string;
  limit: string;
}

type Comparison = "<=" | ">=" | "==";

export interface CheckOptions {
  unit?: string;
  digits?: number;
  /** When the figure is NaN (nothing to measure): passes with this text instead of failing. */
  vacuous?: string;
}

/** `actual <op> limit`; NaN fails (no data) unless `vacuous` says why it passes. */
export function check(name: string, actual: number, op: Comparison, limit: number, options: CheckOptions = {}): Threshold {
  const unit = options.unit ? ` ${options.unit}` : "";
  const fmt = (x: number) => `${Number.isFinite(x) ? Number(x.toFixed(options.digits ?? 1)) : x}${unit}`;
  if (Number.isNaN(actual)) {
    const pass = options.vacuous !== undefined;
    return { name, pass, actual: pass ? options.vacuous! : "no data", limit: `${op} ${fmt(limit)}` };
  }
  const pass = op === "<=" ? actual <= limit : op === ">=" ? actual >= limit : actual === limit;
  return { name, pass, actual: fmt(actual), limit: `${op} ${fmt(limit)}` };
}

export function formatThreshold(t: Threshold): string {
  return `${t.pass ? "PASS" : "FAIL"}  ${t.name}: ${t.actual} (limit ${t.limit})`;
}
