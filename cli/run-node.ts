import { access, mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { freePort, startNatsServer, type NatsServer } from "../nats/index.js";
import { createLogger, defaultNodeId, nodeMetrics } from "../runtime/index.js";
import type { ColmenaConfig, ConfigFlags } from "./config.js";
import { credsLayout, embeddedCredsDir, generateNatsCreds } from "./nats-creds.js";
import { SERVICE_INBOX_PREFIX } from "./nats-permissions.js";
import { startActorThread, type ActorThread } from "./actor-thread.js";
import { collectProcessMetrics, startMetricsServer, type MetricsServer } from "./metrics-server.js";
import { kindsOf, startNode, type RunningNode } from "./node.js";
import { collectGpuMetrics } from "./gpu-metrics.js";
import { startTelemetry } from "./telemetry.js";
import { ProcessGuard } from "./process-guard.js";
import { startupConfig } from "./startup-check.js";

export interface NodeFlags extends ConfigFlags {
  natsPort?: number;
  /** `colmena up --insecure-nats`: the embedded nats-server without authentication (development only); by default it runs in operator mode, with credentials in <dataDir>/nats-creds. */
  insecureNats?: boolean;
}

/** How long a stop may go on past the runtime's shutdown grace (NATS, the threads) before the process exits anyway. */
export const STOP_BEYOND_GRACE_MS = 20_000;

/**
 * `colmena up` and `colmena node`: the whole config validated first and the
 * model and certificate files it names read (a bad value or a missing file
 * starts nothing: startup-check.ts), then for `up` an embedded nats-server
 * (in operator mode, each thread on its own user, unless --insecure-nats), the node,
 * and a graceful stop on SIGINT/SIGTERM (intake stops, in-flight work
 * finishes, keyed state is saved, nothing acknowledged is lost), bounded:
 * a second signal, or the stop outlasting the grace by STOP_BEYOND_GRACE_MS,
 * exits at once.
 */
export async function runNode(mode: "up" | "node", flags: NodeFlags, version: string): Promise<void> {
  const config = await startupConfig(flags, process.env);
  const nodeId = config.nodeId ?? defaultNodeId();
  const log = createLogger({ level: config.log.level, nodeId });
  const telemetry = await startTelemetry(process.env, { nodeId, version });
  const guard = new ProcessGuard(log);
  let nats: NatsServer | undefined;
  let creds: { serverConfig: string; node: string; bridge: string; service: string } | undefined;
  if (mode === "up" && !flags.nats) {
    const port = flags.natsPort ?? (await portOr(4222));
    const storeDir = resolve(join(config.dataDir, "nats"));
    await mkdir(storeDir, { recursive: true });
    if (!flags.insecureNats) creds = await embeddedCreds(config);
    nats = await startNatsServer({ storeDir, port, onLog: (line) => log.debug({ nats: line }, "nats-server"), ...(creds && { extraArgs: ["-c", creds.serverConfig] }) });
  }
  const natsConfig = nats ? { ...config.nats, servers: nats.url } : config.nats;
  const natsAs = (credsFile: string | undefined) => (credsFile === undefined ? natsConfig : { ...natsConfig, auth: { type: "creds" as const, credsFile } });
  const actorRoles = config.roles.filter((r) => r !== "bridge");
  const threads = actorRoles.length === 0 ? 0 : (config.actorThreads ?? (config.roles.includes("bridge") ? 1 : 0));
  const mainRoles = threads > 0 ? config.roles.filter((r) => r === "bridge") : config.roles;
  const actorThreads: ActorThread[] = [];
  let node: RunningNode | undefined;
  let metrics: MetricsServer | undefined;
  let stopping = false;
  const stopAll = async () => {
    await metrics?.close();
    await node?.stop();
    await Promise.all(actorThreads.map((t) => t.stop()));
    await nats?.stop();
    await telemetry?.shutdown();
  };
  // A fault in an actor thread (logged there) makes this node unready too: its /ready is the one that is asked.
  const threadFault = (origin: string, message: string) => node?.system.recordFault(`actor thread: ${origin}`, new Error(message));
  const crashed = (code: number) => {
    if (stopping) return;
    stopping = true;
    log.fatal({ code }, "an actor thread ended unexpectedly: stopping the node");
    void stopAll().finally(() => process.exit(1));
  };
  try {
    // The actor roles first: the bridge asks the embedder for its model as it starts.
    for (let i = 0; i < threads; i++) {
      actorThreads.push(await startActorThread({ ...config, nodeId: `${nodeId}-a${i}`, roles: actorRoles, nats: natsAs(creds?.node) }, version, log, crashed, threadFault));
    }
    collectProcessMetrics();
    await collectGpuMetrics({ registry: nodeMetrics });
    const threadMetrics = actorThreads.map((t) => () => t.metrics());
    const mainCreds = mainRoles.length === 1 && mainRoles[0] === "bridge" ? creds?.bridge : creds?.node;
    const threadLinks = new Map(actorThreads.map((t) => [t.nodeId, t.link]));
    if (mainRoles.length > 0) node = await startNode({ ...config, nodeId, roles: mainRoles, nats: natsAs(mainCreds) }, { version, log, threadMetrics, threadLinks });
    const { system } = node ?? {};
    if (system) guard.report((origin, err) => system.recordFault(origin, err));
    if (!config.roles.includes("bridge")) metrics = await startMetricsServer({ ...config.metrics, threads: threadMetrics, log });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const shutdown = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "a second signal: exiting without finishing the stop");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "stopping");
    // Past the runtime's grace the stop waits only on NATS and the threads: a node whose servers are all gone must still exit.
    const limitMs = config.runtime.shutdownGraceMs + STOP_BEYOND_GRACE_MS;
    setTimeout(() => {
      log.fatal({ limitMs }, "the stop did not finish in time: exiting");
      process.exit(1);
    }, limitMs).unref();
    stopAll()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "unclean stop");
        process.exit(1);
      });
  };
  // Before the banner says Ctrl-C stops it: a supervisor may signal as soon as it reads that.
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  const out = process.stdout;
  out.write(`colmena ${version} — node ${nodeId} (${mainRoles.join(", ") || "no roles of its own"})\n`);
  for (const t of actorThreads) out.write(`  actors:    ${t.nodeId} (${actorRoles.join(", ")}), in a worker thread\n`);
  if (metrics) out.write(`  metrics:   ${metrics.url}\n`);
  out.write(`  NATS:      ${nats ? `${nats.url} (embedded, JetStream in ${join(config.dataDir, "nats")})` : String(config.nats.servers)}\n`);
  if (creds) {
    out.write(`  NATS auth: operator mode; service API clients: ${creds.service} (inboxPrefix ${SERVICE_INBOX_PREFIX}); nodes joining: ${creds.node}\n`);
  } else if (nats) {
    out.write("  NATS auth: none (--insecure-nats): anything that reaches the port may use every subject\n");
  }
  if (node?.httpUrl) {
    out.write(`  HTTP:      ${node.httpUrl}   (OpenAPI: ${node.httpUrl}/docs/json)\n\n`);
    out.write(`Try:\n  curl -s ${node.httpUrl}/v1/documents -H 'content-type: application/json' \\\n    -d '{"documents":[{"id":"hello","text":"Colmena serves RAG over NATS actors."}]}'\n`);
    out.write(`  curl -s ${node.httpUrl}/v1/query -H 'content-type: application/json' -d '{"question":"What does Colmena serve?"}'\n`);
    out.write(`or: npx colmena ingest README.md */README.md && npx colmena ask "How does the bridge shed load?"\n`);
  }
  out.write("Ctrl-C stops it gracefully.\n");
}

/**
 * The embedded server's credentials, generated into the data directory on
 * first start (files 0600 in a 0700 folder) and kept after, so nodes and
 * tools holding them keep working across restarts; `colmena keys` and
 * `colmena audit` on this machine find the node user's there (local-creds.ts).
 */
async function embeddedCreds(config: ColmenaConfig) {
  const dir = embeddedCredsDir(config.dataDir);
  const exists = await access(join(dir, "nats-server.conf")).then(
    () => true,
    () => false,
  );
  const layout = exists ? credsLayout(dir, [config.namespace]) : await generateNatsCreds(dir, [config.namespace], (role) => kindsOf(config, [role]));
  const users = Object.values(layout.namespaces)[0]!;
  return { serverConfig: layout.serverConfig, node: users.node, bridge: users.roles.bridge, service: users.service };
}

async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((res) => {
    const s = createServer().once("error", () => res(false));
    s.listen(preferred, "127.0.0.1", () => s.close(() => res(true)));
  });
  return free ? preferred : freePort();
}
