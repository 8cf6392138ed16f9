import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { freePort } from "../../nats/index.js";
import { startBridge, type TestBridge } from "../bridge/http-harness.js";
import { hasOpenssl, makeCertificates, type TestCertificates } from "../helpers/certificates.js";
import { startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const skip = (await hasOpenssl()) ? false : "the openssl binary is not installed (apt-get install openssl)";

/** GET over HTTPS trusting `ca`, optionally with a client certificate: the status, or the error the handshake ended with. */
function httpsGet(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }): Promise<number | Error> {
  return new Promise((resolve) => {
    const req = request(url, { ...tls, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", (err) => resolve(err));
    req.end();
  });
}

describe("colmena up - the bridge over HTTPS from certificate files", { skip }, () => {
  let dir: string;
  let certs: TestCertificates;
  let up: ColmenaProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-tls-"));
    certs = await makeCertificates(dir);
    up = await startColmenaUp(["--set", `http.tls.cert=${certs.serverCert}`, "--set", `http.tls.key=${certs.serverKey}`]);
  });
  after(async () => {
    assert.equal(await up?.stop(), 0);
    await rm(dir, { recursive: true, force: true });
  });

  test("colmena up - with http.tls the bridge serves HTTPS with that certificate, and plain HTTP gets no answer", async () => {
    assert.match(up.httpUrl, /^https:\/\/127\.0\.0\.1:\d+$/, "the banner names the https address");
    const ca = await readFile(certs.ca);
    assert.equal(await httpsGet(`${up.httpUrl}/health`, { ca }), 200);
    const untrusted = await httpsGet(`${up.httpUrl}/health`, { ca: await readFile(certs.clientCert) });
    assert.ok(untrusted instanceof Error && /certificate/i.test(untrusted.message), `a client that does not trust the CA refuses it: ${String(untrusted)}`);
    const plain = up.httpUrl.replace("https:", "http:");
    await assert.rejects(fetch(`${plain}/health`), "plain HTTP on the HTTPS port is not answered");
  });
});

describe("bridge - client certificates when http.tls.ca is set", { skip }, () => {
  let dir: string;
  let certs: TestCertificates;
  let bridge: TestBridge;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-mtls-"));
    certs = await makeCertificates(dir);
    bridge = await startBridge({ tls: { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca } });
  });
  after(async () => {
    await bridge?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("bridge - a client with a certificate from the CA is answered; one without a certificate is refused at the handshake", async () => {
    const url = `https://127.0.0.1:${bridge.port}/health`;
    const ca = await readFile(certs.ca);
    assert.equal(await httpsGet(url, { ca, cert: await readFile(certs.clientCert), key: await readFile(certs.clientKey) }), 200);
    const without = await httpsGet(url, { ca });
    assert.ok(without instanceof Error, `no client certificate, no answer (got ${String(without)})`);
  });
});

test("colmena up - a missing or mismatched certificate file stops start-up with exit code 2, naming the key and the path", { skip }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-tls-bad-"));
  try {
    const certs = await makeCertificates(dir);
    const dataDir = join(dir, "data");
    const start = async (...set: string[]) => {
      const args = [main, "up", "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn", ...set.flatMap((s) => ["--set", s])];
      return promisify(execFile)(process.execPath, args, { timeout: 60_000 }).then(
        () => assert.fail("colmena up started"),
        (e: { code?: number; stdout: string; stderr: string }) => e,
      );
    };
    const missing = join(dir, "nowhere", "server.key");
    for (const [set, names] of [
      [[`http.tls.cert=${certs.serverCert}`, `http.tls.key=${missing}`], ["http.tls.key", missing]],
      [[`http.tls.cert=${certs.serverCert}`, `http.tls.key=${certs.clientKey}`], ["http.tls", certs.serverCert]],
      [[`http.tls.cert=${certs.serverCert}`, `http.tls.key=${certs.serverKey}`, `http.tls.ca=${missing}`], ["http.tls.ca", missing]],
    ] as const) {
      const failed = await start(...set);
      assert.equal(failed.code, 2, failed.stderr);
      const lines = failed.stderr.trim().split("\n");
      assert.equal(lines.length, 1, failed.stderr);
      for (const name of names) assert.ok(lines[0]!.includes(name), `${lines[0]} names ${name}`);
      assert.equal(failed.stdout, "", "no banner: nothing started");
      assert.equal(existsSync(join(dataDir, "nats")), false, "the embedded nats-server's store was never made");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
