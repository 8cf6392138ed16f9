import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNatsServer, type NatsServer } from "../../nats/index.js";

/** A real nats-server for one test file, with JetStream in a temporary directory that goes away with it. */
export async function startTestServer(options: { maxPayload?: number } = {}): Promise<NatsServer> {
  const dir = await mkdtemp(join(tmpdir(), "colmena-test-"));
  const server = await startNatsServer({ storeDir: join(dir, "js"), ...options });
  return {
    ...server,
    url: server.url,
    port: server.port,
    pid: server.pid,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
