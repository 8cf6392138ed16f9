import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from "prom-client";
import type { CellStats } from "../contract/stats.js";

/**
 * The metrics of this thread: one registry per JavaScript realm (the main
 * thread and each actor thread have their own module instance), holding the
 * runtime's families and those the actor kinds define with `nodeMetrics`.
 * Labels are bounded: kind, message type, outcome, state, stage — never a
 * node id, key, question or document id.
 */
export const nodeMetrics = new Registry();

/** Buckets for work done inside a node, from 0.1 ms (a cache hit) to a minute (a long generation). */
export const DURATION_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** How a handled message ended: answered, answered with a typed error, crashed (the supervisor decides), dropped past its deadline, or refused at admission. */
export type MessageOutcome = "ok" | "error" | "crash" | "expired" | "rejected";

const kinds = new Map<string, KindMetrics>();

new Counter({
  name: "colmena_actor_messages_total",
  help: "Messages offered to actors, by kind, message type and outcome",
  labelNames: ["kind", "type", "outcome"],
  registers: [nodeMetrics],
  // Counted in plain numbers per message (a prom-client inc hashes its labels: too dear for a local tell) and read here at scrape time.
  collect() {
    this.reset();
    for (const [kind, m] of kinds) for (const [type, outcomes] of m.counts) for (const outcome of OUTCOMES) if (outcomes[outcome] > 0) this.inc({ kind, type, outcome }, outcomes[outcome]);
  },
});
const handleDuration = new Histogram({
  name: "colmena_actor_handle_duration_seconds",
  help: "Time from a message's start to its answer (a stream's end), by kind and message type; one message in 16 is timed",
  labelNames: ["kind", "type"],
  buckets: DURATION_BUCKETS,
  registers: [nodeMetrics],
});
const stageDuration = new Histogram({ name: "colmena_stage_duration_seconds", help: "Time spent in one stage of a question (embed, shard search, fuse, cache lookup, generate)", labelNames: ["stage"], buckets: DURATION_BUCKETS, registers: [nodeMetrics] });

/** Where the gauges read the activations of this thread: every running ActorSystem adds itself while it runs. */
const sources = new Set<() => CellStats[]>();

export function addCellSource(source: () => CellStats[]): () => void {
  sources.add(source);
  return () => sources.delete(source);
}

function allCells(): CellStats[] {
  return [...sources].flatMap((s) => s());
}

new Gauge({
  name: "colmena_actor_mailbox_depth",
  help: "Messages waiting in the mailboxes of a kind's activations on this node",
  labelNames: ["kind"],
  registers: [nodeMetrics],
  collect() {
    this.reset();
    for (const c of allCells()) this.inc({ kind: c.kind }, c.mailbox);
  },
});
new Gauge({
  name: "colmena_actor_in_flight",
  help: "Messages being handled by a kind's activations on this node",
  labelNames: ["kind"],
  registers: [nodeMetrics],
  collect() {
    this.reset();
    for (const c of allCells()) this.inc({ kind: c.kind }, c.inFlight);
  },
});
new Gauge({
  name: "colmena_actor_instances",
  help: "A kind's activations on this node, by lifecycle state",
  labelNames: ["kind", "state"],
  registers: [nodeMetrics],
  collect() {
    this.reset();
    for (const c of allCells()) this.inc({ kind: c.kind, state: c.lifecycle });
  },
});

/** A pooled kind's slots on this node: its instances × the kind's concurrency, and how many are handling a message now. */
export interface PoolSlots {
  kind: string;
  slots: number;
  inFlight: number;
}

const poolSources = new Set<() => PoolSlots[]>();

/** Where `colmena_actor_slots` reads the pooled kinds of this thread: every running ActorSystem adds itself while it runs. */
export function addPoolSource(source: () => PoolSlots[]): () => void {
  poolSources.add(source);
  return () => poolSources.delete(source);
}

new Gauge({
  name: "colmena_actor_slots",
  help: "A pooled kind's message slots on this node (instances × concurrency), used or free: what an autoscaler divides the work by",
  labelNames: ["kind", "state"],
  registers: [nodeMetrics],
  collect() {
    this.reset();
    for (const source of poolSources) {
      for (const p of source()) {
        const used = Math.min(p.inFlight, p.slots);
        this.inc({ kind: p.kind, state: "used" }, used);
        this.inc({ kind: p.kind, state: "free" }, p.slots - used);
      }
    }
  },
});

/** One durable intake's consumer on this thread, and how to ask the server for its lag. */
export interface ConsumerLagSource {
  stream: string;
  consumer: string;
  /** num_pending + num_ack_pending, from the server; undefined when it cannot say (the consumer is gone, the connection is down). */
  lag(): Promise<number | undefined>;
}

const lagSources = new Set<ConsumerLagSource>();

/** Where `colmena_consumer_lag` reads a durable intake's consumer while the intake runs. */
export function addConsumerLagSource(source: ConsumerLagSource): () => void {
  lagSources.add(source);
  return () => lagSources.delete(source);
}

new Gauge({
  name: "colmena_consumer_lag",
  help: "Entries a durable consumer has not finished (num_pending + num_ack_pending, as the server counts them), per stream and consumer; every node reading a shared consumer reports the same figure, so take the max, not the sum",
  labelNames: ["stream", "consumer"],
  registers: [nodeMetrics],
  // Several actor threads reading one shared consumer see one figure: merged threads keep the largest, they do not add up.
  aggregator: "max",
  async collect() {
    this.reset();
    const seen = new Map<string, ConsumerLagSource>();
    for (const s of lagSources) seen.set(`${s.stream}\u0000${s.consumer}`, s);
    const lags = await Promise.all([...seen.values()].map(async (s) => ({ s, lag: await s.lag().catch(() => undefined) })));
    for (const { s, lag } of lags) if (lag !== undefined) this.set({ stream: s.stream, consumer: s.consumer }, lag);
  },
});

const OUTCOMES: readonly MessageOutcome[] = ["ok", "error", "crash", "expired", "rejected"];

/** One kind's message figures: counts per type and outcome, and the duration histogram's child per type, made once. */
export class KindMetrics {
  readonly #kind: string;
  readonly counts = new Map<string, Record<MessageOutcome, number>>();
  readonly #durations = new Map<string, Histogram.Internal<string>>();

  constructor(kind: string) {
    this.#kind = kind;
  }

  record(type: string, outcome: MessageOutcome): void {
    let c = this.counts.get(type);
    if (c === undefined) this.counts.set(type, (c = { ok: 0, error: 0, crash: 0, expired: 0, rejected: 0 }));
    c[outcome]++;
  }

  /** A timed message's handling time (the cell times one message in 16). */
  observe(type: string, seconds: number): void {
    let h = this.#durations.get(type);
    if (h === undefined) this.#durations.set(type, (h = handleDuration.labels(this.#kind, type)));
    h.observe(seconds);
  }
}

/** The figures of one kind, shared by all its activations on this thread. */
export function kindMetrics(kind: string): KindMetrics {
  let m = kinds.get(kind);
  if (m === undefined) kinds.set(kind, (m = new KindMetrics(kind)));
  return m;
}

/** Records how long `work` took as the stage `stage`, whether it succeeds or not. */
export async function timeStage<T>(stage: string, work: () => Promise<T>): Promise<T> {
  const end = stageDuration.startTimer({ stage });
  try {
    return await work();
  } finally {
    end();
  }
}

export type { MetricObjectWithValues, MetricValue };
/** What a thread's registry looks like in transit (structured-clone safe), for `Registry.aggregate`. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/** One exposition of several threads' registries: counters and histograms add up; so do the per-kind gauges. */
export async function mergedExposition(local: Registry[], remote: Array<() => Promise<MetricsSnapshot>>): Promise<{ contentType: string; text: string }> {
  const snapshots = await Promise.all([...local.map((r) => r.getMetricsAsJSON() as Promise<MetricsSnapshot>), ...remote.map((f) => f())]);
  const merged = AggregatorRegistry.aggregate(snapshots);
  return { contentType: merged.contentType, text: await merged.metrics() };
}
