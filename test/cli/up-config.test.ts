import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "node:test";
import { freePort } from "../../nats/index.js";
import { startColmenaUp } from "../helpers/colmena-process.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

test("colmena up - a bad retrieval value stops start-up before nats-server or any thread starts, naming the key and its origin", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-up-bad-"));
  try {
    const env = { ...process.env, COLMENA_RETRIEVAL__SHARD__SNAPSHOT_EVERY_WRITES: "soon" };
    const args = [main, "up", "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn"];
    // A start that did not stop would be killed at the timeout and fail below.
    const failed = await promisify(execFile)(process.execPath, args, { env, timeout: 60_000 }).then(
      () => assert.fail("colmena up started"),
      (e: { code?: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(failed.code, 2, "a mistake, not a crash to restart");
    assert.match(failed.stderr, /INVALID: invalid configuration/);
    assert.match(failed.stderr, /retrieval\.shard\.snapshotEveryWrites \(from env COLMENA_RETRIEVAL__SHARD__SNAPSHOT_EVERY_WRITES\)/);
    assert.equal(failed.stdout, "", "no banner: nothing started");
    assert.equal(existsSync(join(dataDir, "nats")), false, "the embedded nats-server's store was never made");
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("colmena up - a missing model folder stops start-up at once: one line naming the path and the config key, exit code 2, nothing started", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-up-model-"));
  try {
    const missing = join(dataDir, "models");
    const start = async (config: unknown) => {
      const file = join(dataDir, "colmena.json");
      await writeFile(file, JSON.stringify(config));
      const args = [main, "up", "--config", file, "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn"];
      return promisify(execFile)(process.execPath, args, { timeout: 60_000 }).then(
        () => assert.fail("colmena up started"),
        (e: { code?: number; stdout: string; stderr: string }) => e,
      );
    };
    // The README's "Real models" config, with neither folder there: the embedder's is named first.
    const readme = {
      retrieval: { embedder: { backend: "onnx", modelDir: join(missing, "all-MiniLM-L6-v2") }, indexes: [{ name: "default", shards: 4, dimension: 384 }] },
      llm: { backend: { type: "onnx", modelDir: join(missing, "Falcon3-1B-Instruct-onnx"), device: "cuda:0" } },
    };
    for (const [config, path, key] of [
      [readme, readme.retrieval.embedder.modelDir, "retrieval.embedder.modelDir"],
      [{ llm: readme.llm }, readme.llm.backend.modelDir, "llm.backend.modelDir"],
    ] as const) {
      const failed = await start(config);
      assert.equal(failed.code, 2, key);
      const lines = failed.stderr.trim().split("\n");
      assert.equal(lines.length, 1, failed.stderr);
      assert.ok(lines[0]!.includes(path), lines[0]);
      assert.ok(lines[0]!.includes(`config key ${key}`), lines[0]);
      assert.equal(failed.stdout, "", "no banner: nothing started");
      assert.equal(existsSync(join(dataDir, "nats")), false, "the embedded nats-server's store was never made");
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("colmena up - the bridge's rate limit and trustProxy from a config file, and --set, reach the running bridge", async () => {
  const config = join(tmpdir(), `colmena-up-http-${process.pid}.json`);
  await writeFile(config, JSON.stringify({ http: { rateLimit: { anonymous: { requestsPerMinute: 2 } }, trustProxy: true } }));
  const up = await startColmenaUp(["--config", config, "--set", "http.sseHeartbeatMs=1000", "--set", "http.admission.initialLimit=8"]);
  try {
    const models = (ip: string) => fetch(`${up.httpUrl}/v1/models`, { headers: { "x-forwarded-for": ip } });
    for (let i = 0; i < 2; i++) assert.equal((await models("192.0.2.1")).status, 200);
    const limited = await models("192.0.2.1");
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as { error: { code: string } }).error.code, "RATE_LIMITED");
    assert.equal((await models("192.0.2.2")).status, 200, "trustProxy: another forwarded client has a bucket of its own");
  } finally {
    assert.equal(await up.stop(), 0);
    await rm(config, { force: true });
  }
});

test("colmena node - a NATS creds or TLS file that cannot be read stops start-up with exit code 2, naming the key and the path", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-node-files-"));
  try {
    const missing = join(dir, "nowhere", "colmena-embedder.creds");
    for (const [flags, key] of [
      [["--creds", missing], "nats.auth.credsFile"],
      [["--set", `nats.tls=${JSON.stringify({ caFile: missing })}`], "nats.tls.caFile"],
    ] as const) {
      // Nothing listens on the port: a start that tried to connect would fail another way (exit 1).
      const args = [main, "node", "--roles", "embedder", "--nats", `nats://127.0.0.1:${await freePort()}`, "--data-dir", join(dir, "data"), "--log-level", "warn", ...flags];
      const failed = await promisify(execFile)(process.execPath, args, { timeout: 60_000 }).then(
        () => assert.fail("colmena node started"),
        (e: { code?: number; stdout: string; stderr: string }) => e,
      );
      assert.equal(failed.code, 2, failed.stderr);
      const lines = failed.stderr.trim().split("\n");
      assert.equal(lines.length, 1, failed.stderr);
      assert.ok(lines[0]!.includes(key) && lines[0]!.includes(missing), lines[0]);
      assert.equal(failed.stdout, "", "no banner: nothing started");
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("colmena up - a FAQ file that is not there stops start-up at once, naming the path and pipeline.faqFile", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-up-faq-"));
  try {
    const faq = join(dataDir, "faq.txt");
    const file = join(dataDir, "colmena.json");
    await writeFile(file, JSON.stringify({ pipeline: { faqFile: faq } }));
    const args = [main, "up", "--config", file, "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn"];
    const failed = await promisify(execFile)(process.execPath, args, { timeout: 60_000 }).then(
      () => assert.fail("colmena up started"),
      (e: { code?: number; stdout: string; stderr: string }) => e,
    );
    assert.equal(failed.code, 2, "a mistake, not a crash to restart");
    const lines = failed.stderr.trim().split("\n");
    assert.equal(lines.length, 1, failed.stderr);
    assert.ok(lines[0]!.includes(faq) && lines[0]!.includes("config key pipeline.faqFile"), lines[0]);
    assert.equal(existsSync(join(dataDir, "nats")), false, "the embedded nats-server's store was never made");
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
