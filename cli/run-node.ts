import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { freePort, startNatsServer, type NatsServer } from "../nats/index.js";
import { createLogger, defaultNodeId, loadConfig } from "../runtime/index.js";
import { ColmenaConfigSchema } from "./config.js";
import { startNode } from "./node.js";

export interface NodeFlags {
  config?: string;
  dataDir?: string;
  port?: number;
  host?: string;
  namespace?: string;
  logLevel?: string;
  nats?: string;
  natsPort?: number;
  roles?: string[];
}

/**
 * `colmena up` and `colmena node`: validated config, optionally an embedded
 * nats-server, the node, and a graceful stop on SIGINT/SIGTERM (intake stops,
 * in-flight work finishes, keyed state is saved, nothing acknowledged is lost).
 */
export async function runNode(mode: "up" | "node", flags: NodeFlags, version: string): Promise<void> {
  const config = loadConfig(ColmenaConfigSchema, {
    ...(flags.config && { file: flags.config }),
    env: process.env,
    flags: {
      "http.port": flags.port,
      "http.host": flags.host,
      dataDir: flags.dataDir,
      namespace: flags.namespace,
      "log.level": flags.logLevel,
      "nats.servers": flags.nats?.split(","),
      roles: flags.roles,
    },
  });
  const nodeId = config.nodeId ?? defaultNodeId();
  const log = createLogger({ level: config.log.level, nodeId });
  let nats: NatsServer | undefined;
  if (mode === "up" && !flags.nats) {
    const port = flags.natsPort ?? (await portOr(4222));
    const storeDir = resolve(join(config.dataDir, "nats"));
    await mkdir(storeDir, { recursive: true });
    nats = await startNatsServer({ storeDir, port, onLog: (line) => log.debug({ nats: line }, "nats-server") });
  }
  const node = await startNode({ ...config, nodeId, ...(nats && { nats: { ...config.nats, servers: nats.url } }) }, { version, log }).catch(async (err: unknown) => {
    await nats?.stop();
    throw err;
  });

  const out = process.stdout;
  out.write(`colmena ${version} — node ${nodeId} (${config.roles.join(", ")})\n`);
  out.write(`  NATS:      ${nats ? `${nats.url} (embedded, JetStream in ${join(config.dataDir, "nats")})` : String(config.nats.servers)}\n`);
  if (node.httpUrl) {
    out.write(`  HTTP:      ${node.httpUrl}   (OpenAPI: ${node.httpUrl}/docs/json)\n\n`);
    out.write(`Try:\n  curl -s ${node.httpUrl}/v1/documents -H 'content-type: application/json' \\\n    -d '{"documents":[{"id":"hello","text":"Colmena serves RAG over NATS actors."}]}'\n`);
    out.write(`  curl -s ${node.httpUrl}/v1/query -H 'content-type: application/json' -d '{"question":"What does Colmena serve?"}'\n`);
    out.write(`or: colmena ingest ./docs && colmena ask "your question"\n`);
  }
  out.write("Ctrl-C stops it gracefully.\n");

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    void node
      .stop()
      .then(() => nats?.stop())
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        log.error({ err }, "unclean stop");
        process.exit(1);
      });
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
}

async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((res) => {
    const s = createServer().once("error", () => res(false));
    s.listen(preferred, "127.0.0.1", () => s.close(() => res(true)));
  });
  return free ? preferred : freePort();
}
