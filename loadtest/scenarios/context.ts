import { HttpDriver } from "../drivers/http.js";
import { NatsDriver } from "../drivers/nats.js";
import type { Driver, Request } from "../drivers/driver.js";
import { runOpenLoop, type OpenLoopResult } from "../generator.js";
import type { CommonOptions } from "../options.js";
import { Recorder, type PhaseSummary } from "../recorder.js";
import { printSummary } from "../report/console.js";
import { gitRevision, machine } from "../report/machine.js";
import type { Marker, Report, Table } from "../report/report.js";
import { writeReports } from "../report/write.js";
import type { Arrival, Phase } from "../schedule.js";
import { assertLoopback } from "../target/loopback.js";
import { seedDocuments } from "../target/seed.js";
import { spawnUp, type SpawnedUp } from "../target/spawn.js";
import { fetchStatus, ServerMonitor } from "../target/status.js";
import type { Threshold } from "../thresholds.js";
import { corpusSource } from "../workload/corpus.js";
import { generatedSource } from "../workload/generated.js";
import { seeded } from "../workload/random.js";
import { Workload } from "../workload/workload.js";

/** What a scenario's body gets: a ready target, a driver, a workload, and one recorder for all its runs. */
export interface Context {
  readonly options: CommonOptions;
  readonly httpUrl: string;
  readonly natsUrl: string | undefined;
  /** Credentials for nodes joining natsUrl: the spawned target's node user, or --node-creds. */
  readonly nodeCreds: string | undefined;
  readonly spawned: SpawnedUp | undefined;
  readonly driver: Driver;
  readonly workload: Workload;
  readonly recorder: Recorder;
  readonly monitor: ServerMonitor;
  /** Clock reading of the scenario's start (`performance.now()`). */
  readonly origin: number;
  /** Aborts on Ctrl-C: runs stop scheduling, the scenario ends, the report is still written. */
  readonly signal: AbortSignal;
  readonly markers: Marker[];
  /** A progress line on stderr. */
  log(line: string): void;
  /** With --spawn: stops the target and starts a fresh one (documents ingested again); the driver and monitor follow. */
  respawn(): Promise<void>;
  /** One open-loop run with the common bounds; queries unless `next` says otherwise. */
  run(phases: Phase[], options?: { next?: (a: Arrival) => Request; maxRequests?: number }): Promise<OpenLoopResult>;
  /** One constant-rate query step, drained, then its summary (capacity searches). */
  step(phase: string, rate: number, durationMs: number): Promise<PhaseSummary>;
}

export interface ScenarioResult {
  thresholds: Threshold[];
  tables?: Table[];
  notes?: string[];
  /** Which phases the report lists (default: all). */
  phases?: string[];
}

const query = (w: Workload) => (): Request => ({ op: "query", body: w.query() });

/**
 * Runs a scenario from start to end: the target (spawned or given), the
 * documents, the driver, the memory monitor; then the body; then the
 * reports, the PASS/FAIL lines, and the clean-up whatever happened. Returns
 * the exit code: 0 when every threshold passed.
 */
export async function runScenario(name: string, options: CommonOptions, config: Record<string, unknown>, body: (ctx: Context) => Promise<ScenarioResult>): Promise<number> {
  const out = process.stdout;
  const log = (line: string) => process.stderr.write(`${name}: ${line}\n`);
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    log("stopping (Ctrl-C again to quit at once)");
    abort.abort();
  };
  process.on("SIGINT", onSigint);

  const startedAt = new Date();
  const origin = performance.now();
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    if (!options.spawn) assertLoopback(options.url, "--url");
    if (options.nats) assertLoopback(options.nats, "--nats");
    const r = seeded(options.seed);
    const source = options.corpus === "generated" ? generatedSource(r) : await corpusSource(options.corpus);
    const workload = new Workload(source, {
      seed: options.seed,
      repeatRatio: options.repeat,
      hotSet: options.hotSet,
      sessions: options.sessions,
      ...(options.topK !== undefined && { topK: options.topK }),
      idPrefix: `loadtest-${startedAt.getTime().toString(36)}`,
    });

    interface Target {
      spawned?: SpawnedUp;
      httpUrl: string;
      natsUrl?: string;
      driver: Driver;
      documents?: number;
    }
    const open = async (): Promise<Target> => {
      let spawned: SpawnedUp | undefined;
      if (options.spawn) {
        log("starting colmena up (temporary data directory, free ports)");
        spawned = await spawnUp();
        log(`colmena up: HTTP ${spawned.httpUrl}, NATS ${spawned.natsUrl}`);
      }
      try {
        const httpUrl = spawned?.httpUrl ?? options.url;
        const natsUrl = spawned?.natsUrl ?? options.nats;
        await fetchStatus(httpUrl, 5_000, options.apiKey).catch((cause: unknown) => {
          throw new Error(`cannot read ${httpUrl}/v1/status (is \`colmena up\` running there?): ${(cause as Error).message}`, { cause });
        });
        let documents: number | undefined;
        if (options.preload ?? options.spawn) {
          log(`ingesting ${source.documents.length} documents from ${source.name}`);
          documents = await seedDocuments(httpUrl, source.documents, { ...(options.apiKey && { apiKey: options.apiKey }) });
        }
        let driver: Driver;
        if (options.driver === "nats") {
          if (!natsUrl) throw new Error("--driver nats needs --nats URL (or --spawn)");
          const creds = spawned?.creds?.service ?? options.natsCreds;
          driver = await NatsDriver.connect({ url: natsUrl, namespace: options.namespace, requestTimeoutMs: options.timeoutMs, ...(creds !== undefined && { creds }) });
        } else {
          driver = new HttpDriver({ url: httpUrl, connections: options.connections, ...(options.apiKey && { apiKey: options.apiKey }) });
        }
        return { ...(spawned && { spawned }), httpUrl, ...(natsUrl && { natsUrl }), driver, ...(documents !== undefined && { documents }) };
      } catch (err) {
        await spawned?.stop();
        throw err;
      }
    };
    const close = async (t: Target) => {
      if (!t.spawned && !options.keepDocuments && workload.ingestedIds.length > 0) {
        log(`removing the ${workload.ingestedIds.length} documents this run ingested`);
        for (const id of workload.ingestedIds.splice(0)) await t.driver.remove(id).catch(() => false);
      }
      await t.driver.close().catch(() => undefined);
      await t.spawned?.stop();
    };

    let target = await open();
    cleanups.push(() => close(target));
    const memory = new ServerMonitor(target.httpUrl, origin, { ...(options.apiKey && { apiKey: options.apiKey }) }).start();
    cleanups.push(async () => memory.stop());
    const recorder = new Recorder(origin);
    const markers: Marker[] = [];
    const common = { recorder, maxInFlight: options.maxInFlight, requestTimeoutMs: options.timeoutMs, drainTimeoutMs: options.drainMs, signal: abort.signal };
    const ctx: Context = {
      options,
      get httpUrl() {
        return target.httpUrl;
      },
      get natsUrl() {
        return target.natsUrl;
      },
      get nodeCreds() {
        return target.spawned?.creds?.node ?? options.nodeCreds;
      },
      get spawned() {
        return target.spawned;
      },
      get driver() {
        return target.driver;
      },
      workload,
      recorder,
      monitor: memory,
      origin,
      signal: abort.signal,
      markers,
      log,
      async respawn() {
        if (!options.spawn) throw new Error("respawn needs --spawn");
        await close(target);
        target = await open();
        memory.retarget(target.httpUrl);
      },
      async run(phases, o = {}) {
        let t = (performance.now() - origin) / 1000;
        for (const p of phases) {
          markers.push({ t, label: p.name });
          t += p.durationMs / 1000;
        }
        return runOpenLoop({ ...common, driver: target.driver, phases, next: o.next ?? query(workload), ...(o.maxRequests !== undefined && { maxRequests: o.maxRequests }) });
      },
      async step(phase, rate, durationMs) {
        await ctx.run([{ name: phase, rate, durationMs }]);
        await new Promise((r) => setTimeout(r, 500)); // let the server settle between steps
        return recorder.summary(phase);
      },
    };

    const result = await body(ctx);
    memory.stop();
    await memory.poll();

    const listed = result.phases ?? recorder.phaseNames();
    const phases = listed.filter((p) => recorder.has(p)).map((p) => recorder.summary(p));
    const total = recorder.phaseNames().length ? recorder.total() : null;
    const notes = [...(result.notes ?? []), ...clientNotes(total)];
    const report: Report = {
      scenario: name,
      startedAt: startedAt.toISOString(),
      durationSeconds: (performance.now() - origin) / 1000,
      machine: machine(),
      git: gitRevision(),
      config: { scenario: name, ...options, ...config, apiKey: options.apiKey ? "(set)" : undefined },
      target: { driver: target.driver.name, url: target.httpUrl, ...(target.natsUrl && { nats: target.natsUrl }), spawned: options.spawn, corpus: source.name, ...(target.documents !== undefined && { documents: target.documents }) },
      phases,
      total,
      timeline: recorder.timeline(),
      memory: { summary: memory.summary(), samples: memory.samples },
      thresholds: result.thresholds,
      passed: result.thresholds.every((t) => t.pass) && !abort.signal.aborted,
      tables: result.tables ?? [],
      markers,
      notes: abort.signal.aborted ? ["stopped early by Ctrl-C: the figures cover part of the run", ...notes] : notes,
    };
    const files = await writeReports(options.out, `${name}-${stamp(startedAt)}`, report);
    printSummary(out, report, files);
    return report.passed ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => log(`clean-up failed: ${(err as Error).message}`));
  }
}

function clientNotes(total: PhaseSummary | null): string[] {
  if (!total) return [];
  const notes: string[] = [];
  if (total.dropped > 0) notes.push(`the client dropped ${total.dropped} requests at its in-flight cap (--max-in-flight): they were never sent, so the server saw less than the offered load`);
  if (total.sendLag.p99 > 20) notes.push(`the client sent late (send lag p99 ${total.sendLag.p99.toFixed(1)} ms, counted in every latency): client and server share this machine's CPUs`);
  return notes;
}

const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace("T", "-").slice(0, 15);
