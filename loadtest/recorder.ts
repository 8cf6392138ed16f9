import type { Operation, Outcome } from "./drivers/driver.js";
import { LatencyHistogram, type LatencySummary } from "./histogram.js";
import type { Phase } from "./schedule.js";

/** Latencies of one operation within a phase: all answers, the successful ones, and per code. */
class OpRecord {
  readonly all = new LatencyHistogram();
  readonly ok = new LatencyHistogram();
  readonly byCode = new Map<string, LatencyHistogram>();
  cached = 0;
  okQueries = 0;

  add(other: OpRecord): void {
    this.all.add(other.all);
    this.ok.add(other.ok);
    for (const [code, h] of other.byCode) this.#code(code).add(h);
    this.cached += other.cached;
    this.okQueries += other.okQueries;
  }

  record(latencyMs: number, outcome: Outcome, op: Operation): void {
    this.all.record(latencyMs);
    if (outcome.ok) this.ok.record(latencyMs);
    this.#code(outcome.code).record(latencyMs);
    if (op === "query" && outcome.ok) {
      this.okQueries += 1;
      if (outcome.cached) this.cached += 1;
    }
  }

  #code(code: string): LatencyHistogram {
    let h = this.byCode.get(code);
    if (!h) this.byCode.set(code, (h = new LatencyHistogram()));
    return h;
  }
}

class PhaseRecord {
  readonly ops = new Map<Operation, OpRecord>();
  readonly shedLatency = new LatencyHistogram();
  readonly sendLag = new LatencyHistogram();
  scheduled = 0;
  sent = 0;
  dropped = 0;
  completed = 0;
  ok = 0;
  shed = 0;
  shedWithRetryHint = 0;
  errors = 0;
  lastDoneMs = -Infinity;

  constructor(
    readonly name: string,
    readonly startMs: number,
    readonly durationMs: number,
    readonly nominalRate: number,
  ) {}

  op(op: Operation): OpRecord {
    let r = this.ops.get(op);
    if (!r) this.ops.set(op, (r = new OpRecord()));
    return r;
  }
}

export interface OpSummary {
  all: LatencySummary;
  ok: LatencySummary;
  codes: Record<string, LatencySummary>;
  /** Share of successful queries answered from the cache (queries only). */
  cachedShare?: number;
}

export interface PhaseSummary {
  name: string;
  /** Milliseconds after the scenario's origin. */
  startMs: number;
  durationMs: number;
  /** Requests per second the schedule asked for (the mean over a ramp). */
  offeredRate: number;
  /** Successful answers per second, over the phase or until its last answer, whichever is longer. */
  achievedRate: number;
  scheduled: number;
  sent: number;
  /** Not sent: the client's in-flight cap was reached (the client could not keep the schedule). */
  dropped: number;
  completed: number;
  ok: number;
  /** Answered 429 or 503: the documented shed responses. */
  shed: number;
  shedWithRetryHint: number;
  /** Neither successful nor shed: other statuses and failures on the client's side. */
  errors: number;
  ops: Partial<Record<Operation, OpSummary>>;
  shedLatency: LatencySummary;
  /** How late the client sent requests after their due time (its own lag; counted in every latency). */
  sendLag: LatencySummary;
}

/** One second of the run, by due time (latency, offered) or by completion time (achieved). */
export interface Window {
  /** Seconds after the origin. */
  t: number;
  offered: number;
  achieved: number;
  dropped: number;
  shed: number;
  errors: number;
  /** Successful answers to requests due in this second. */
  okCount: number;
  p50: number;
  p99: number;
  max: number;
}

interface WindowRecord {
  offered: number;
  achieved: number;
  dropped: number;
  shed: number;
  errors: number;
  ok: LatencyHistogram;
}

/**
 * Everything a scenario measured, grouped by phase (each phase of every run
 * has a unique name) and by second. Times are clock readings; `origin` is the
 * scenario's start, so seconds line up across the runs of one scenario.
 * Latency is from the due time of a request, never from when it was sent.
 */
export class Recorder {
  readonly #phases = new Map<string, PhaseRecord>();
  readonly #windows = new Map<number, WindowRecord>();

  constructor(readonly origin: number) {}

  /** Registers a phase that starts at clock reading `startAt`. */
  begin(phase: Phase, startAt: number): void {
    if (this.#phases.has(phase.name)) throw new Error(`phase ${JSON.stringify(phase.name)} recorded twice`);
    const rate = (phase.rate + (phase.toRate ?? phase.rate)) / 2;
    this.#phases.set(phase.name, new PhaseRecord(phase.name, startAt - this.origin, phase.durationMs, rate));
  }

  scheduled(phase: string, dueAt: number): void {
    this.#phase(phase).scheduled += 1;
    this.#window(dueAt).offered += 1;
  }

  dropped(phase: string, dueAt: number): void {
    this.#phase(phase).dropped += 1;
    this.#window(dueAt).dropped += 1;
  }

  sent(phase: string, dueAt: number, sentAt: number): void {
    const p = this.#phase(phase);
    p.sent += 1;
    p.sendLag.record(sentAt - dueAt);
  }

  completed(phase: string, op: Operation, dueAt: number, doneAt: number, outcome: Outcome): void {
    const p = this.#phase(phase);
    const latency = doneAt - dueAt;
    p.completed += 1;
    p.lastDoneMs = Math.max(p.lastDoneMs, doneAt - this.origin);
    p.op(op).record(latency, outcome, op);
    const w = this.#window(dueAt);
    if (outcome.ok) {
      p.ok += 1;
      w.ok.record(latency);
      this.#window(doneAt).achieved += 1;
    } else if (outcome.shed) {
      p.shed += 1;
      w.shed += 1;
      p.shedLatency.record(latency);
      if (outcome.retryHint) p.shedWithRetryHint += 1;
    } else {
      p.errors += 1;
      w.errors += 1;
    }
  }

  phaseNames(): string[] {
    return [...this.#phases.keys()];
  }

  has(name: string): boolean {
    return this.#phases.has(name);
  }

  /** One phase, or several merged into one summary under `as`. */
  summary(names: string | string[], as?: string): PhaseSummary {
    const list = (Array.isArray(names) ? names : [names]).map((n) => this.#phase(n));
    const first = list[0];
    if (!first) throw new Error("no phase to summarize");
    const merged = list.length === 1 ? first : merge(list, as ?? list.map((p) => p.name).join("+"));
    return summarize(merged);
  }

  /** Every phase recorded, merged. */
  total(): PhaseSummary {
    return this.summary(this.phaseNames(), "total");
  }

  /** Per-second series from the first second to the last, gaps filled with zeros. */
  timeline(): Window[] {
    const seconds = [...this.#windows.keys()];
    if (seconds.length === 0) return [];
    const out: Window[] = [];
    for (let t = Math.min(...seconds); t <= Math.max(...seconds); t++) {
      const w = this.#windows.get(t);
      out.push({
        t,
        offered: w?.offered ?? 0,
        achieved: w?.achieved ?? 0,
        dropped: w?.dropped ?? 0,
        shed: w?.shed ?? 0,
        errors: w?.errors ?? 0,
        okCount: w?.ok.count ?? 0,
        p50: w ? w.ok.at(50) : NaN,
        p99: w ? w.ok.at(99) : NaN,
        max: w ? w.ok.at(100) : NaN,
      });
    }
    return out;
  }

  #phase(name: string): PhaseRecord {
    const p = this.#phases.get(name);
    if (!p) throw new Error(`unknown phase ${JSON.stringify(name)}`);
    return p;
  }

  #window(at: number): WindowRecord {
    const t = Math.floor((at - this.origin) / 1000);
    let w = this.#windows.get(t);
    if (!w) this.#windows.set(t, (w = { offered: 0, achieved: 0, dropped: 0, shed: 0, errors: 0, ok: new LatencyHistogram({ packed: true }) }));
    return w;
  }
}

function merge(list: PhaseRecord[], name: string): PhaseRecord {
  const start = Math.min(...list.map((p) => p.startMs));
  const end = Math.max(...list.map((p) => p.startMs + p.durationMs));
  const scheduled = list.reduce((s, p) => s + p.scheduled, 0);
  const m = new PhaseRecord(name, start, end - start, (scheduled / (end - start)) * 1000);
  for (const p of list) {
    for (const [op, r] of p.ops) m.op(op).add(r);
    m.shedLatency.add(p.shedLatency);
    m.sendLag.add(p.sendLag);
    m.scheduled += p.scheduled;
    m.sent += p.sent;
    m.dropped += p.dropped;
    m.completed += p.completed;
    m.ok += p.ok;
    m.shed += p.shed;
    m.shedWithRetryHint += p.shedWithRetryHint;
    m.errors += p.errors;
    m.lastDoneMs = Math.max(m.lastDoneMs, p.lastDoneMs);
  }
  return m;
}

function summarize(p: PhaseRecord): PhaseSummary {
  const spanMs = Math.max(p.durationMs, p.lastDoneMs - p.startMs);
  const ops: Partial<Record<Operation, OpSummary>> = {};
  for (const [op, r] of p.ops) {
    const codes: Record<string, LatencySummary> = {};
    for (const [code, h] of [...r.byCode].sort(([a], [b]) => a.localeCompare(b))) codes[code] = h.summary();
    ops[op] = { all: r.all.summary(), ok: r.ok.summary(), codes, ...(op === "query" && { cachedShare: r.okQueries ? r.cached / r.okQueries : NaN }) };
  }
  return {
    name: p.name,
    startMs: p.startMs,
    durationMs: p.durationMs,
    offeredRate: p.nominalRate,
    achievedRate: spanMs > 0 ? (p.ok / spanMs) * 1000 : NaN,
    scheduled: p.scheduled,
    sent: p.sent,
    dropped: p.dropped,
    completed: p.completed,
    ok: p.ok,
    shed: p.shed,
    shedWithRetryHint: p.shedWithRetryHint,
    errors: p.errors,
    ops,
    shedLatency: p.shedLatency.summary(),
    sendLag: p.sendLag.summary(),
  };
}
