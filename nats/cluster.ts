import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { jetStreamManagerOf } from "./jetstream.js";
import { NatsError } from "./errors.js";
import { freePort, startNatsServer, type NatsServer } from "./server.js";

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
  stop(): Promise<void>;
}

/**
 * A JetStream cluster of nats-servers on this machine: routes between all of
 * them, a server name and store directory each, resolved once JetStream has
 * a meta leader and every server sees the others, so streams with replicas
 * can be created at once. For tests, benchmarks and trying a cluster on a
 * laptop; a deployment runs its servers on their own machines.
 */
export async function startNatsCluster(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3;
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const servers = await Promise.all(
    clusterPorts.map((clusterPort, i) =>
      startNatsServer({
        storeDir: join(options.storeDir, `n${i}`),
        extraArgs: ["--server_name", `n${i}`, "--cluster_name", options.name ?? "colmena", "--cluster", `nats://127.0.0.1:${clusterPort}`, "--routes", routes],
      }),
    ),
  );
  const cluster: NatsCluster = { urls: servers.map((s) => s.url), servers, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
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
