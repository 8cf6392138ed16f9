import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsCluster, type NatsCluster } from "../../nats/index.js";

export type TestCluster = NatsCluster;

/** A real JetStream cluster of `size` nats-servers for one test file, its store in a temporary directory that goes away with it. */
export async function startTestCluster(size = 3): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), "colmena-cluster-"));
  const cluster = await startNatsCluster({ size, storeDir: dir, name: "colmena-test" });
  return {
    ...cluster,
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
