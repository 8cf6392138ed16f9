/**
 * A node's actor roles in a worker thread, beside the HTTP bridge on the
 * main thread.
 *
 * The bridge is where load is shed: an overloaded node must still answer
 * "429, retry after" within milliseconds. When shard searches, embedding and
 * generation share the bridge's thread, the refusal waits behind them — the
 * whole thread is busy exactly when shedding matters. So a node with the
 * bridge and other roles runs those other roles here, as a node of their own
 * on the same NATS, and the main thread keeps only the edge: HTTP, admission,
 * and one message to the pipeline actor per question. That message and its
 * answer go over a MessagePort (the runtime's thread link) rather than
 * through the nats-server; everything else between the two crosses NATS as
 * between any two nodes. It also gives the node a
 * second core. Its young generation is capped (`actorThreadYoungGenerationMb`):
 * under load V8 grows it and does not shrink it again.
 *
 * The same file is the thread's entry point: the main thread starts it with
 * `startActorThread`, which resolves once the node inside has started. The
 * thread's metrics registry is its own (a worker has its own module
 * instances); the main thread asks for a snapshot of it at each scrape.
 */
import { isMainThread, MessageChannel, parentPort, Worker, workerData, type MessagePort } from "node:worker_threads";
import { once } from "node:events";
import { createLogger, nodeMetrics, type Logger, type MetricsSnapshot } from "../runtime/index.js";
import type { ColmenaConfig } from "./config.js";
import { startNode } from "./node.js";
import { ProcessGuard } from "./process-guard.js";
import { startTelemetry } from "./telemetry.js";

interface ThreadData {
  config: ColmenaConfig;
  version: string;
  /** The thread's node serves the main thread's pooled asks on this port (runtime's thread link). */
  link: MessagePort;
}

type Started = { type: "started" } | { type: "failed"; message: string };
type FromThread = Started | { type: "fault"; origin: string; message: string } | { type: "metrics"; id: number; metrics: MetricsSnapshot };
type ToThread = { type: "stop" } | { type: "metrics"; id: number };

export interface ActorThread {
  readonly nodeId: string;
  /** The main thread's end of the link the thread's node serves: its pooled asks go over it instead of NATS. */
  readonly link: MessagePort;
  /** A snapshot of the thread's metrics registry. */
  metrics(): Promise<MetricsSnapshot>;
  /** Stops the node inside (gracefully: intake, in-flight work, keyed state) and ends the thread. */
  stop(): Promise<void>;
}

/**
 * Starts `config`'s roles as a node in a worker thread; `onExit` is called if
 * the thread ends without being asked to (a crash), with its exit code, and
 * `onFault` for each fault its process guard caught (the thread logged it).
 */
export async function startActorThread(
  config: ColmenaConfig,
  version: string,
  log: Logger,
  onExit: (code: number) => void,
  onFault: (origin: string, message: string) => void,
): Promise<ActorThread> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { config, version, link: port2 } satisfies ThreadData,
    transferList: [port2],
    resourceLimits: { maxYoungGenerationSizeMb: config.actorThreadYoungGenerationMb },
  });
  let stopping = false;
  const exited = once(worker, "exit") as Promise<[number]>;
  void exited.then(([code]) => {
    if (!stopping) onExit(code);
  });
  worker.on("error", (err) => log.error({ err, node: config.nodeId }, "actor thread crashed"));
  const [first] = (await Promise.race([once(worker, "message"), exited.then(([code]) => [{ type: "failed", message: `the actor thread exited with code ${code} while starting` }])])) as [FromThread];
  if (first.type !== "started") {
    stopping = true;
    await worker.terminate();
    throw new Error(first.type === "failed" ? first.message : first.type === "fault" ? `the actor thread faulted while starting: ${first.message}` : "the actor thread answered before it had started");
  }
  let nextId = 0;
  const scrapes = new Map<number, (m: MetricsSnapshot) => void>();
  worker.on("message", (m: FromThread) => {
    if (m.type === "fault") onFault(m.origin, m.message);
    if (m.type === "metrics") scrapes.get(m.id)?.(m.metrics);
    scrapes.delete(m.type === "metrics" ? m.id : -1);
  });
  let ended = false;
  // A thread that ended answers nothing: its figures are left out of the scrapes still waiting for them.
  void exited.then(() => {
    ended = true;
    for (const resolve of scrapes.values()) resolve([]);
    scrapes.clear();
  });
  const send = (m: ToThread) => worker.postMessage(m);
  return {
    nodeId: config.nodeId!,
    link: port1,
    metrics: () =>
      new Promise((resolve) => {
        if (ended) return resolve([]);
        const id = nextId++;
        scrapes.set(id, resolve);
        send({ type: "metrics", id });
      }),
    stop: async () => {
      if (stopping) return;
      stopping = true;
      send({ type: "stop" });
      await exited;
    },
  };
}

async function runInThread(data: ThreadData, port: NonNullable<typeof parentPort>): Promise<void> {
  const log = createLogger({ level: data.config.log.level, nodeId: data.config.nodeId! });
  const guard = new ProcessGuard(log);
  let node;
  let telemetry;
  try {
    telemetry = await startTelemetry(process.env, { nodeId: data.config.nodeId!, version: data.version });
    node = await startNode(data.config, { version: data.version, log, servePort: data.link });
  } catch (err) {
    port.postMessage({ type: "failed", message: (err as Error).message } satisfies Started);
    return;
  }
  port.postMessage({ type: "started" } satisfies FromThread);
  const { system } = node;
  guard.report((origin, err) => {
    system.recordFault(origin, err);
    port.postMessage({ type: "fault", origin, message: err instanceof Error ? err.message : String(err) } satisfies FromThread);
  });
  await new Promise<void>((stop) =>
    port.on("message", (m: ToThread) => {
      if (m.type === "stop") return stop();
      void nodeMetrics.getMetricsAsJSON().then((metrics) => port.postMessage({ type: "metrics", id: m.id, metrics: metrics as MetricsSnapshot } satisfies FromThread));
    }),
  );
  await node.stop();
  await telemetry?.shutdown();
  process.exit(0); // ends this thread only
}

if (!isMainThread && parentPort) void runInThread(workerData as ThreadData, parentPort);
