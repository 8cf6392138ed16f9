import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { connect, type NatsConnection } from "@nats-io/transport-node";
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

/** A test server and one plain client connection for the enclosing suite: started before its tests, closed after. */
export function serverWithClient(): { readonly server: NatsServer; readonly nc: NatsConnection } {
  const fixture = {} as { server: NatsServer; nc: NatsConnection };
  before(async () => {
    fixture.server = await startTestServer();
    fixture.nc = await connect({ servers: fixture.server.url });
  });
  after(async () => {
    await fixture.nc?.close();
    await fixture.server?.stop();
  });
  return fixture;
}
