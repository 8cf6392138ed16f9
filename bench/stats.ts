import { pino } from "pino";
import { ActorSystem, loadConfig, RuntimeConfigSchema, type AnyHosted } from "../runtime/index.js";

/** Percentile of an ascending-sorted sample (nearest rank). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** p50/p90/p99/max of a sample, in the sample's unit. */
export function summarize(sample: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = Float64Array.from(sample).sort();
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN };
}

export const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** Prints one result line: the case name first, then its figures. */
export function report(name: string, figures: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ case: name, ...figures })}\n`);
}

/** Calls `fn` `n` times, one after another; each call's time in µs. */
export async function sequential(fn: () => Promise<unknown>, n: number): Promise<number[]> {
  const us: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await fn();
    us.push(Number(process.hrtime.bigint() - t) / 1_000);
  }
  return us;
}

/** Runs `total` calls with `concurrency` closed-loop callers; each call's latency (ms) and the wall time (s). */
export async function drive(total: number, concurrency: number, call: (i: number) => Promise<unknown>): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) {
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/** An ActorSystem of these kinds on the NATS at `url`, quiet, with asks allowed a minute. */
export async function startSystem(url: string, kinds: AnyHosted[]): Promise<ActorSystem> {
  const config = loadConfig(RuntimeConfigSchema, { flags: { "nats.servers": url, "log.level": "warn", "runtime.askTimeoutMs": 60_000 } });
  return ActorSystem.start({ config, kinds, log: pino({ level: "warn" }) });
}
