import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { clusterConfig, type ServerConfig } from "./cluster-config.js";
import { jetStreamManagerOf } from "./jetstream.js";
import { NatsError } from "./errors.js";
import { freePortBlock, startNatsServer, type NatsServer } from "./server.js";

export interface NatsClusterOptions {
  /** Servers (default 3). */
  size?: number;
  /** A store directory per server is made below it (`n0`, `n1`, …). */
  storeDir: string;
  /** Cluster name the servers share (default "colmena"). */
  name?: string;
  readyTimeoutMs?: number;
}

export interface NatsCluster {
  /** Every server's client URL, for `nats.servers`. */
  readonly urls: string[];
  readonly servers: NatsServer[];
  /** Each server's configuration, as `colmena nats config` writes it (its file is `<storeDir>/<name>.conf`). */
  readonly configs: ServerConfig[];
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of nats-servers on this machine, each started from the
 * configuration file `clusterConfig` writes (the one `colmena nats config`
 * writes): routes between all of them, a server name, store directory and
 * monitoring port each, on a block of free ports; resolved once JetStream has
 * a meta leader and every server sees the others, so streams with replicas
 * can be created at once. For tests, benchmarks and trying a cluster on a
 * laptop; a deployment runs its servers on their own machines.
 */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const base = await freePortBlock(3 * size);
  const { servers: configs } = clusterConfig({ servers: size, hosts: ["127.0.0.1"], name: options.name ?? "colmena", clientPort: base, clusterPort: base + size, monitorPort: base + 2 * size, storeDir: options.storeDir });
  await mkdir(options.storeDir, { recursive: true });
  const servers = await Promise.all(
    configs.map(async (c) => {
      const file = join(options.storeDir, `${c.name}.conf`);
      await writeFile(file, c.text);
      return startNatsServer({ storeDir: c.storeDir, port: c.clientPort, configFile: file });
    }),
  );
  const cluster: NatsCluster = { urls: servers.map((s) => s.url), servers, configs, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
  try {
    await untilFormed(cluster.urls, size, options.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function untilFormed(urls: string[], size: number, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: urls });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await (await jetStreamManagerOf(nc)).getAccountInfo();
        if ((nc.info?.connect_urls?.length ?? 0) >= size) return;
      } catch {
        // no meta leader yet
      }
      if (Date.now() > deadline) throw new NatsError("TIMEOUT", `the ${size}-server NATS cluster did not form within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await nc.close();
  }
}

