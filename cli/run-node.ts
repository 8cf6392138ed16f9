import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { freePort, startNatsServer, type NatsServer } from "../nats/index.js";
import { createLogger, defaultNodeId, isColmenaError } from "../runtime/index.js";
import { nodeConfig, type ConfigFlags } from "./config.js";
import { startActorThread, type ActorThread } from "./actor-thread.js";
import { startNode, type RunningNode } from "./node.js";
import { checkConfiguredFiles, ConfigMistake } from "./preflight.js";

export interface NodeFlags extends ConfigFlags {
  natsPort?: number;
}

/**
 * `colmena up` and `colmena node`: the whole config validated first, and the
 * model folders and files it names checked (a mistake starts nothing and is
 * a ConfigMistake: exit code 2), then optionally an embedded nats-server, the node,
 * and a graceful stop on SIGINT/SIGTERM (intake stops, in-flight work
 * finishes, keyed state is saved, nothing acknowledged is lost).
 */
export async function runNode(mode: "up" | "node", flags: NodeFlags, version: string): Promise<void> {
  const config = await checkedConfig(flags);
  const nodeId = config.nodeId ?? defaultNodeId();
  const log = createLogger({ level: config.log.level, nodeId });
  let nats: NatsServer | undefined;
  if (mode === "up" && !flags.nats) {
    const port = flags.natsPort ?? (await portOr(4222));
    const storeDir = resolve(join(config.dataDir, "nats"));
    await mkdir(storeDir, { recursive: true });
    nats = await startNatsServer({ storeDir, port, onLog: (line) => log.debug({ nats: line }, "nats-server") });
  }
  const natsConfig = nats ? { ...config.nats, servers: nats.url } : config.nats;
  const actorRoles = config.roles.filter((r) => r !== "bridge");
  const threads = actorRoles.length === 0 ? 0 : (config.actorThreads ?? (config.roles.includes("bridge") ? 1 : 0));
  const mainRoles = threads > 0 ? config.roles.filter((r) => r === "bridge") : config.roles;
  const actorThreads: ActorThread[] = [];
  let node: RunningNode | undefined;
  let stopping = false;
  const stopAll = async () => {
    await node?.stop();
    await Promise.all(actorThreads.map((t) => t.stop()));
    await nats?.stop();
  };
  const crashed = (code: number) => {
    if (stopping) return;
    stopping = true;
    log.fatal({ code }, "an actor thread ended unexpectedly: stopping the node");
    void stopAll().finally(() => process.exit(1));
  };
  try {
    // The actor roles first: the bridge asks the embedder for its model as it starts.
    for (let i = 0; i < threads; i++) {
      actorThreads.push(await startActorThread({ ...config, nodeId: `${nodeId}-a${i}`, roles: actorRoles, nats: natsConfig }, version, log, crashed));
    }
    if (mainRoles.length > 0) node = await startNode({ ...config, nodeId, roles: mainRoles, nats: natsConfig }, { version, log });
  } catch (err) {
    await stopAll();
    throw err;
  }
  const out = process.stdout;
  out.write(`colmena ${version} — node ${nodeId} (${mainRoles.join(", ") || "no roles of its own"})\n`);
  for (const t of actorThreads) out.write(`  actors:    ${t.nodeId} (${actorRoles.join(", ")}), in a worker thread\n`);
  out.write(`  NATS:      ${nats ? `${nats.url} (embedded, JetStream in ${join(config.dataDir, "nats")})` : String(config.nats.servers)}\n`);
  if (node?.httpUrl) {
    out.write(`  HTTP:      ${node.httpUrl}   (OpenAPI: ${node.httpUrl}/docs/json)\n\n`);
    out.write(`Try:\n  curl -s ${node.httpUrl}/v1/documents -H 'content-type: application/json' \\\n    -d '{"documents":[{"id":"hello","text":"Colmena serves RAG over NATS actors."}]}'\n`);
    out.write(`  curl -s ${node.httpUrl}/v1/query -H 'content-type: application/json' -d '{"question":"What does Colmena serve?"}'\n`);
    out.write(`or: npx colmena ingest README.md */README.md && npx colmena ask "How does the bridge shed load?"\n`);
  }
  out.write("Ctrl-C stops it gracefully.\n");

  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    stopAll()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "unclean stop");
        process.exit(1);
      });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

async function checkedConfig(flags: NodeFlags) {
  try {
    const config = nodeConfig(flags, process.env);
    await checkConfiguredFiles(config);
    return config;
  } catch (err) {
    throw isColmenaError(err, "INVALID") ? new ConfigMistake(err.message, { cause: err }) : err;
  }
}

async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((res) => {
    const s = createServer().once("error", () => res(false));
    s.listen(preferred, "127.0.0.1", () => s.close(() => res(true)));
  });
  return free ? preferred : freePort();
}
