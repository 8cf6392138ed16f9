import { Command, Option } from "commander";
import type { CapacityOptions } from "./capacity.js";
import { defaultCorpus, parseDuration, parseInteger, parseNumber, parseSizes, parseSteps, type CommonOptions } from "./options.js";

/*
 * The `loadtest` command and its scenarios. This file loads only commander:
 * the generator, drivers and reports are imported when a scenario runs, so
 * `colmena` commands that do not load-test start as fast as before.
 */

/** The common flags as commander hands them over: CommonOptions, with booleans left unset and times under their flag names. */
type CommonFlags = Omit<CommonOptions, "spawn" | "keepDocuments" | "timeoutMs" | "drainMs"> & {
  spawn?: boolean;
  keepDocuments?: boolean;
  timeout: number;
  drain: number;
};

function withCommon(cmd: Command, defaults: { repeat: number }): Command {
  return cmd
    .option("--url <url>", "HTTP bridge of a running Colmena on this machine", process.env.COLMENA_URL ?? "http://127.0.0.1:8080")
    .option("--spawn", "start a colmena up of this build (temporary data dir, free ports), ingest the workload's documents, stop it afterwards")
    .addOption(new Option("--driver <driver>", "interface to load").choices(["http", "nats"]).default("http"))
    .option("--nats <url>", "NATS server of the target (for --driver nats; scaling joins nodes to it)")
    .option("--nats-creds <file>", "the target's service user credentials, for --driver nats (colmena up prints their path)")
    .option("--node-creds <file>", "NATS credentials of the nodes scaling joins to the target (colmena up prints their path)")
    .option("--namespace <name>", "subject prefix of the target's NATS API", "colmena")
    .option("--api-key <key>", "API key, when the bridge requires one", process.env.COLMENA_API_KEY)
    .option("--corpus <dir>", 'markdown/text folder for documents and questions, or "generated"', defaultCorpus())
    .option("--preload", "ingest the workload's documents first (default with --spawn only)")
    .option("--no-preload", "do not ingest the workload's documents first")
    .option("--seed <n>", "seed of the workload", parseInteger("--seed", 0), 1)
    .option("--repeat <ratio>", "share of queries repeating a hot question (exercises the answer cache)", parseNumber("--repeat", 0, 1), defaults.repeat)
    .option("--hot-set <n>", "how many questions can repeat", parseInteger("--hot-set", 1), 50)
    .option("--sessions <n>", "0: each query opens a new session; n: one of n session ids", parseInteger("--sessions", 0), 0)
    .option("--top-k <n>", "passages to retrieve per query (default: the server's)", parseInteger("--top-k", 1, 100))
    .option("--max-in-flight <n>", "outstanding requests at most; arrivals beyond are dropped by the client and reported", parseInteger("--max-in-flight", 1), 4096)
    .option("--connections <n>", "HTTP sockets at most", parseInteger("--connections", 1), 512)
    .addOption(duration("--timeout <duration>", "a request unanswered after this is a client timeout", 30_000, "30s"))
    .addOption(duration("--drain <duration>", "after the schedule, wait at most this long for outstanding answers", 30_000, "30s"))
    .option("--out <dir>", "folder for the JSON, Markdown and SVG reports", "loadtest-results")
    .option("--keep-documents", "keep the documents a run ingested into a target it did not start");
}

function common(f: CommonFlags): CommonOptions {
  return Object.freeze({
    url: f.url.replace(/\/+$/, ""),
    spawn: !!f.spawn,
    driver: f.driver,
    ...(f.nats && { nats: f.nats }),
    ...(f.natsCreds && { natsCreds: f.natsCreds }),
    ...(f.nodeCreds && { nodeCreds: f.nodeCreds }),
    namespace: f.namespace,
    ...(f.apiKey && { apiKey: f.apiKey }),
    corpus: f.corpus,
    ...(f.preload !== undefined && { preload: f.preload }),
    seed: f.seed,
    repeat: f.repeat,
    hotSet: f.hotSet,
    sessions: f.sessions,
    ...(f.topK !== undefined && { topK: f.topK }),
    maxInFlight: f.maxInFlight,
    connections: f.connections,
    timeoutMs: f.timeout,
    drainMs: f.drain,
    out: f.out,
    keepDocuments: !!f.keepDocuments,
  });
}

interface CapacityFlags {
  startRate: number;
  growth: number;
  stepDuration: number;
  maxRate: number;
  refine: number;
  p99Factor: number;
  p99Floor: number;
  warmup: number;
}

function withCapacity(cmd: Command): Command {
  return cmd
    .option("--start-rate <n>", "first rate of the capacity search, requests/s", parseNumber("--start-rate", 0.1), 20)
    .option("--growth <x>", "each search step offers this many times the last", parseNumber("--growth", 1.05, 10), 1.5)
    .addOption(duration("--step-duration <duration>", "length of each search step", 3_000, "3s"))
    .option("--max-rate <n>", "the search stops here", parseNumber("--max-rate", 1), 5_000)
    .option("--refine <n>", "bisections after the first failing step", parseInteger("--refine", 0, 10), 2)
    .option("--p99-factor <x>", "a step fails when its p99 passes this many times the median p99 of the steps that passed", parseNumber("--p99-factor", 1), 5)
    .option("--p99-floor <ms>", "… and that median plus this many ms", parseNumber("--p99-floor", 0), 50)
    .addOption(duration("--warmup <duration>", "warm-up at the start rate before the search", 2_000, "2s"));
}

const capacity = (f: CapacityFlags): CapacityOptions => ({ startRate: f.startRate, growth: f.growth, stepMs: f.stepDuration, maxRate: f.maxRate, refineSteps: f.refine, p99Factor: f.p99Factor, p99FloorMs: f.p99Floor });

/** A duration flag whose default shows as "30s", not as milliseconds. */
function duration(flags: string, description: string, defaultMs: number, shown: string): Option {
  return new Option(flags, description).argParser(parseDuration(flags.split(" ")[0]!)).default(defaultMs, shown);
}

/** Runs a scenario, then exits with its code (0: every threshold passed). */
async function exitWith(code: Promise<number>): Promise<never> {
  process.exit(await code);
}

/** `loadtest <scenario> [options]`: steady, mixed, overload, scaling, soak. */
export function loadtestCommand(): Command {
  const cmd = new Command("loadtest").description("open-loop load generator: scenarios with PASS/FAIL thresholds and JSON, Markdown and SVG reports");

  withCommon(cmd.command("steady"), { repeat: 0.2 })
    .description("queries only, at a constant rate (optionally a ramp before, steps after)")
    .option("--rate <n>", "queries per second", parseNumber("--rate", 0.1), 20)
    .addOption(duration("--duration <duration>", "length of the constant phase", 30_000, "30s"))
    .option("--ramp <duration>", "a linear ramp from 0 to --rate first", parseDuration("--ramp"))
    .option("--steps <list>", "constant steps after, e.g. 50:10s,100:10s", parseSteps("--steps"), [])
    .option("--max-requests <n>", "stop after this many arrivals", parseInteger("--max-requests", 1))
    .option("--p99 <ms>", "threshold: p99 of successful queries", parseNumber("--p99", 0), 1_000)
    .action(async (f: CommonFlags & { rate: number; duration: number; ramp?: number; steps: Array<{ rate: number; durationMs: number }>; maxRequests?: number; p99: number }) => {
      const { steady } = await import("./scenarios/steady.js");
      await exitWith(steady(common(f), { rate: f.rate, durationMs: f.duration, ...(f.ramp && { rampMs: f.ramp }), steps: f.steps, ...(f.maxRequests && { maxRequests: f.maxRequests }), p99Ms: f.p99 }));
    });

  withCommon(cmd.command("mixed"), { repeat: 0.2 })
    .description("ingest and queries together")
    .option("--rate <n>", "queries per second", parseNumber("--rate", 0.1), 20)
    .option("--ingest-rate <n>", "ingest requests per second", parseNumber("--ingest-rate", 0.1), 2)
    .option("--docs-per-request <n>", "documents per ingest request", parseInteger("--docs-per-request", 1, 10_000), 4)
    .addOption(duration("--duration <duration>", "length of the run", 30_000, "30s"))
    .option("--p99 <ms>", "threshold: p99 of successful queries", parseNumber("--p99", 0), 1_000)
    .option("--ingest-p99 <ms>", "threshold: p99 of successful ingests", parseNumber("--ingest-p99", 0), 5_000)
    .action(async (f: CommonFlags & { rate: number; ingestRate: number; docsPerRequest: number; duration: number; p99: number; ingestP99: number }) => {
      const { mixed } = await import("./scenarios/mixed.js");
      await exitWith(mixed(common(f), { rate: f.rate, ingestRate: f.ingestRate, docsPerRequest: f.docsPerRequest, durationMs: f.duration, p99Ms: f.p99, ingestP99Ms: f.ingestP99 }));
    });

  withCapacity(withCommon(cmd.command("overload"), { repeat: 0.2 }))
    .description("capacity search, then half capacity, a step to 2× capacity, and back: shedding, latency of admitted requests, recovery")
    .addOption(duration("--phase <duration>", "length of the baseline and of the 2× step", 10_000, "10s"))
    .addOption(duration("--settle <duration>", "time after the step before latency must be back to normal", 5_000, "5s"))
    .addOption(duration("--recovery <duration>", "length of the measured recovery at half capacity", 10_000, "10s"))
    .option("--memory-limit <MiB>", "threshold: server memory growth", parseNumber("--memory-limit", 1), 200)
    .action(async (f: CommonFlags & CapacityFlags & { phase: number; settle: number; recovery: number; memoryLimit: number }) => {
      const { overload } = await import("./scenarios/overload.js");
      await exitWith(overload(common(f), { ...capacity(f), warmupMs: f.warmup, phaseMs: f.phase, settleMs: f.settle, recoveryMs: f.recovery, memoryLimitMb: f.memoryLimit }));
    });

  withCapacity(withCommon(cmd.command("scaling"), { repeat: 0 }))
    .description("the capacity search at 1, 2 and 4 nodes: colmena up plus colmena node processes joined to its NATS")
    .option("--sizes <list>", "cluster sizes, in nodes", parseSizes("--sizes"), [1, 2, 4])
    .option("--roles <roles>", "roles of the extra nodes", "embedder,query,llm,session")
    .option("--min-speedup <x>", "threshold (off by default): capacity at the largest size / at the smallest", parseNumber("--min-speedup", 0))
    .action(async (f: CommonFlags & CapacityFlags & { sizes: number[]; roles: string; minSpeedup?: number }) => {
      const { scaling } = await import("./scenarios/scaling.js");
      await exitWith(scaling(common(f), { ...capacity(f), warmupMs: f.warmup, sizes: f.sizes, roles: f.roles.split(",").map((r) => r.trim()).filter(Boolean), ...(f.minSpeedup !== undefined && { minSpeedup: f.minSpeedup }) }));
    });

  withCommon(cmd.command("soak"), { repeat: 0.2 })
    .description("a fixed rate for a set duration: memory growth and error counts")
    .option("--rate <n>", "queries per second", parseNumber("--rate", 0.1), 20)
    .addOption(duration("--duration <duration>", "length of the run", 300_000, "5m"))
    .option("--p99 <ms>", "threshold: p99 of successful queries", parseNumber("--p99", 0), 1_000)
    .option("--memory-limit <MiB>", "threshold: server memory growth", parseNumber("--memory-limit", 1), 200)
    .action(async (f: CommonFlags & { rate: number; duration: number; p99: number; memoryLimit: number }) => {
      const { soak } = await import("./scenarios/soak.js");
      await exitWith(soak(common(f), { rate: f.rate, durationMs: f.duration, p99Ms: f.p99, memoryLimitMb: f.memoryLimit }));
    });

  return cmd;
}
