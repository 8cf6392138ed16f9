import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { freePort, jetStreamManagerOf, startNatsServer, type NatsServer } from "../../nats/index.js";
import { waitFor } from "./wait.js";

export interface TestCluster {
  /** Every server's client URL, for `nats.servers`. */
  readonly urls: string[];
  readonly servers: NatsServer[];
  stop(): Promise<void>;
}

/**
 * A real JetStream cluster of `size` nats-servers on this machine (routes
 * between all of them, a store directory each), resolved once JetStream has
 * a meta leader, so streams with replicas can be created at once.
 */
export async function startTestCluster(size = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "colmena-cluster-"));
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(",");
  const servers = await Promise.all(
    clusterPorts.map((clusterPort, i) =>
      startNatsServer({
        storeDir: join(dir, `n${i}`),
        extraArgs: ["--server_name", `n${i}`, "--cluster_name", "colmena-test", "--cluster", `nats://127.0.0.1:${clusterPort}`, "--routes", routes],
      }),
    ),
  );
  const urls = servers.map((s) => s.url);
  const nc = await connect({ servers: urls });
  try {
    await waitFor(
      "the cluster has a JetStream meta leader",
      async () => {
        try {
          await (await jetStreamManagerOf(nc)).getAccountInfo();
          return (nc.info?.connect_urls?.length ?? 0) >= size;
        } catch {
          return false;
        }
      },
      30_000,
    );
  } finally {
    await nc.close();
  }
  return {
    urls,
    servers,
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
