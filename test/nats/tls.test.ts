import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { connectNats, isNatsError, startNatsServer, type NatsServer } from "../../nats/index.js";
import { hasOpenssl, makeCertificates, type TestCertificates } from "../helpers/certificates.js";

const skip = (await hasOpenssl()) ? false : "the openssl binary is not installed (apt-get install openssl)";
const log = pino({ level: "silent" });

describe("nats - TLS from certificate files, with client certificates", { skip }, () => {
  let dir: string;
  let certs: TestCertificates;
  let server: NatsServer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-nats-tls-"));
    certs = await makeCertificates(dir);
    // --tlsverify: the server asks every client for a certificate signed by the CA.
    server = await startNatsServer({ storeDir: join(dir, "js"), extraArgs: ["--tls", "--tlscert", certs.serverCert, "--tlskey", certs.serverKey, "--tlsverify", "--tlscacert", certs.ca] });
  });
  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("nats - a connection with the CA and a client certificate from files gets through and round-trips a request", async () => {
    const nc = await connectNats({ servers: server.url, name: "tls-test", tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey }, maxReconnectAttempts: 0 }, log);
    try {
      nc.subscribe("echo", { callback: (_err, m) => void m.respond(m.data) });
      const reply = await nc.request("echo", new TextEncoder().encode("over tls"), { timeout: 5_000 });
      assert.equal(new TextDecoder().decode(reply.data), "over tls");
    } finally {
      await nc.close();
    }
  });

  test("nats - without a client certificate, or without the CA, the connection is refused", async () => {
    for (const tls of [{ caFile: certs.ca }, { certFile: certs.clientCert, keyFile: certs.clientKey }]) {
      await assert.rejects(connectNats({ servers: server.url, name: "tls-test", tls, maxReconnectAttempts: 0, timeoutMs: 5_000 }, log), (err: unknown) => isNatsError(err, "UNAVAILABLE"));
    }
  });
});
