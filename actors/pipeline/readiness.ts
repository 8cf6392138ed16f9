/**
 * Readiness: every dependency a question or an ingest needs, checked now.
 * NATS connected; no fault escaped a handler; this node's membership lease
 * held; JetStream answering; every required kind hosted somewhere
 * in the cluster; every shard replica of each index active; the llm pool
 * answering with an instance that can generate (its state, and for an
 * engine its circuit). A failed check names itself in `missing` and makes
 * the node not ready, except the llm when degradation is acceptable: the
 * pipeline answers extractively while no llm can, so that check goes to
 * `degraded` instead.
 */
import { jetStreamManagerOf } from "../../nats/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import { replicaKeys, shardKey, ShardKind, type IndexSpec } from "../index-shard/index.js";
import type { ReadyReport } from "./api.js";
import { PIPELINE_KIND, PipelineKind } from "./pipeline-actor.js";

/** Kinds that must be hosted somewhere in the cluster for a node to be ready. */
const REQUIRED = ["embedder", "index-shard", "ingest", "query-coordinator", "llm", "session", PIPELINE_KIND];
/** llm instance states that take requests. */
const SERVING = new Set(["ready", "busy"]);

export interface ReadinessParts {
  system: ActorSystem;
  indexes: readonly IndexSpec[];
  readyWhenDegraded: boolean;
  /** How long any one probe may take. */
  probeMs: number;
}

export async function readiness(p: ReadinessParts): Promise<ReadyReport> {
  const { system, probeMs } = p;
  const checks: Record<string, boolean> = {};
  const missing: string[] = [];
  const degraded: string[] = [];
  const check = (name: string, problem: string | undefined, degradable = false) => {
    checks[name] = problem === undefined;
    if (problem === undefined) return;
    (degradable && p.readyWhenDegraded ? degraded : missing).push(`${name}: ${problem}`);
  };

  check("nats", system.nc.isClosed() ? "the connection is closed" : undefined);
  // faults: nothing escaped every handler (the process guard's count); lease: this node's heartbeats get through.
  check("faults", system.faults.count === 0 ? undefined : `${system.faults.count} unhandled faults in this process`);
  check("lease", system.membership.fenced ? "this node's membership lease lapsed (heartbeats do not get through)" : undefined);
  const hosted = new Set(system.membership.nodes().flatMap((n) => n.kinds));
  for (const kind of REQUIRED) check(kind, hosted.has(kind) ? undefined : "no node hosts it");
  const [jetstream, shards, llm] = await Promise.all([jetStreamProblem(system, probeMs), Promise.all(p.indexes.map((spec) => inactiveReplicas(system, spec, probeMs))), llmProblem(p)]);
  check("jetstream", jetstream);
  p.indexes.forEach((spec, i) => check(`shards:${spec.name}`, shards[i]!.length ? `replicas not active: ${shards[i]!.join(", ")}` : undefined));
  check("llm-engine", llm, true);
  return { ready: missing.length === 0, checks, missing, degraded };
}

async function jetStreamProblem(system: ActorSystem, probeMs: number): Promise<string | undefined> {
  try {
    const jsm = await jetStreamManagerOf(system.nc);
    await withTimeout(jsm.getAccountInfo(), probeMs);
    return undefined;
  } catch (err) {
    return `not answering (${(err as Error).message})`;
  }
}

async function inactiveReplicas(system: ActorSystem, spec: IndexSpec, probeMs: number): Promise<string[]> {
  const keys = replicaKeys(spec).map((a) => shardKey(a.index, a.shard, a.replica));
  const answers = await Promise.allSettled(keys.map((key) => system.ref(ShardKind, key).ask({ type: "stats" }, { timeoutMs: probeMs })));
  return keys.filter((_, i) => answers[i]!.status === "rejected");
}

async function llmProblem(p: ReadinessParts): Promise<string | undefined> {
  try {
    const status = await p.system.pool(PipelineKind).ask({ type: "llmStatus" }, { timeoutMs: p.probeMs });
    if (!SERVING.has(status.state)) return `instance ${status.instance} is ${status.state}`;
    if (status.circuit !== undefined && status.circuit !== "closed") return `the engine's circuit is ${status.circuit}`;
    return undefined;
  } catch (err) {
    return `no instance answers (${(err as Error).message})`;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
