import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { nodeConfig } from "../../cli/config.js";
import { isColmenaError } from "../../runtime/index.js";

/** The bridge options that `colmena up` once refused, as a file would set them. */
const BRIDGE = {
  rateLimit: { anonymous: { requestsPerMinute: 60 }, tiers: { default: { requestsPerMinute: 120 }, gold: { requestsPerMinute: 600 } }, maxClients: 100 },
  admission: { initialLimit: 8, minLimit: 2, maxLimit: 64, tolerance: 2 },
  trustProxy: "10.0.0.0/8",
  sseHeartbeatMs: 5_000,
};

describe("colmena config - every bridge option, from file, environment and flags", () => {
  let dir: string;
  const file = (name: string) => join(dir, name);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-config-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const refused = (run: () => unknown, ...needles: string[]) =>
    assert.throws(run, (e) => isColmenaError(e, "INVALID") && needles.every((n) => e.message.includes(n)), `expected INVALID naming ${needles.join(", ")}`);

  test("colmena config - a file sets http.rateLimit, http.admission, http.trustProxy and http.sseHeartbeatMs", async () => {
    await writeFile(file("bridge.json"), JSON.stringify({ http: BRIDGE }));
    const { http } = nodeConfig({ config: file("bridge.json") }, {});
    assert.deepEqual({ rateLimit: http.rateLimit, admission: http.admission, trustProxy: http.trustProxy, sseHeartbeatMs: http.sseHeartbeatMs }, BRIDGE);
  });

  test("colmena config - COLMENA_HTTP__* variables set the same options, admission off included", () => {
    const { http } = nodeConfig({}, {
      COLMENA_HTTP__RATE_LIMIT__ANONYMOUS__REQUESTS_PER_MINUTE: "20",
      COLMENA_HTTP__ADMISSION: "false",
      COLMENA_HTTP__TRUST_PROXY: "true",
      COLMENA_HTTP__SSE_HEARTBEAT_MS: "250",
    });
    assert.deepEqual(http.rateLimit, { anonymous: { requestsPerMinute: 20 }, tiers: {}, maxClients: 10_000 });
    assert.equal(http.admission, false);
    assert.equal(http.trustProxy, true);
    assert.equal(http.sseHeartbeatMs, 250);
    const tuned = nodeConfig({}, { COLMENA_HTTP__ADMISSION__MAX_LIMIT: "64" }).http.admission;
    assert.deepEqual(tuned, { initialLimit: 16, minLimit: 4, maxLimit: 64, tolerance: 1.5 }, "one key set, the others defaulted");
  });

  test("colmena config - --set reaches any key and wins over file and environment", async () => {
    await writeFile(file("set.json"), JSON.stringify({ http: { sseHeartbeatMs: 1_000 } }));
    const config = nodeConfig(
      { config: file("set.json"), port: 9000, set: { "http.sseHeartbeatMs": "2000", "http.trustProxy": '["10.0.0.1","10.0.0.2"]', "http.admission.initialLimit": "4", "retrieval.query.candidates": "7" } },
      { COLMENA_HTTP__SSE_HEARTBEAT_MS: "1500" },
    );
    assert.equal(config.http.sseHeartbeatMs, 2_000);
    assert.deepEqual(config.http.trustProxy, ["10.0.0.1", "10.0.0.2"]);
    assert.equal(config.http.admission && config.http.admission.initialLimit, 4);
    assert.equal(config.http.port, 9000);
    assert.equal(config.retrieval.query.candidates, 7);
  });

  test("colmena config - a bad bridge option is refused naming the key and where it came from", async () => {
    await writeFile(file("bad.json"), JSON.stringify({ http: { rateLimit: { anonymous: { requestsPerMinute: 0 } } } }));
    refused(() => nodeConfig({ config: file("bad.json") }, {}), "http.rateLimit.anonymous.requestsPerMinute", `file ${file("bad.json")}`);
    refused(() => nodeConfig({}, { COLMENA_HTTP__SSE_HEARTBEAT_MS: "-1" }), "http.sseHeartbeatMs", "env COLMENA_HTTP__SSE_HEARTBEAT_MS");
    refused(() => nodeConfig({}, { COLMENA_HTTP__TRUST_PROXY: "7" }), "http.trustProxy", "env COLMENA_HTTP__TRUST_PROXY");
    refused(() => nodeConfig({ set: { "http.admission.tolerance": "0.5" } }, {}), "http.admission.tolerance", "flag --http.admission.tolerance");
    refused(() => nodeConfig({ set: { "http.rateLimit.capcity": "5" } }, {}), "http.rateLimit.capcity", "Unrecognized key");
    refused(() => nodeConfig({ set: { "http.rateLimit.tiers": '{"gold":{}}' } }, {}), "http.rateLimit.tiers.gold", "requestsPerMinute, tokensPerMinute or both");
  });

  test("colmena config - auth: a bridge beyond loopback needs auth or --insecure; jwt needs its settings; no HMAC or none on the allow-list", () => {
    refused(() => nodeConfig({ host: "0.0.0.0" }, {}), "http.host", "no authentication", "--insecure");
    assert.equal(nodeConfig({ host: "0.0.0.0", insecure: true }, {}).http.insecure, true);
    assert.equal(nodeConfig({ host: "0.0.0.0", set: { "http.auth.mode": "keys" } }, {}).http.auth.mode, "keys");
    assert.equal(nodeConfig({ host: "127.0.0.2" }, {}).http.host, "127.0.0.2", "all of 127/8 is loopback");
    refused(() => nodeConfig({ set: { "http.auth.mode": "jwt" } }, {}), "http.auth.jwt", "jwt settings");
    const jwt = { jwks: "/etc/jwks.json", issuer: "https://id.example", audience: "colmena" };
    for (const alg of ["HS256", "none"]) {
      refused(() => nodeConfig({ set: { "http.auth": JSON.stringify({ mode: "jwt", jwt: { ...jwt, algorithms: [alg] } }) } }, {}), "http.auth.jwt.algorithms.0");
    }
    assert.deepEqual(nodeConfig({ set: { "http.auth": JSON.stringify({ mode: "both", jwt }) } }, {}).http.auth.jwt?.algorithms, ["RS256", "ES256", "EdDSA"]);
  });

  test("colmena config - retrieval is validated with the rest, naming the key and its origin", async () => {
    await writeFile(file("retrieval.json"), JSON.stringify({ retrieval: { indexes: [{ name: "docs", shards: 0 }] } }));
    refused(() => nodeConfig({ config: file("retrieval.json") }, {}), "retrieval.indexes.0.shards", `file ${file("retrieval.json")}`);
    refused(() => nodeConfig({}, { COLMENA_RETRIEVAL__SHARD__SNAPSHOT_EVRY_WRITES: "5" }), "retrieval.shard.snapshotEvryWrites", "env COLMENA_RETRIEVAL__SHARD__SNAPSHOT_EVRY_WRITES");
    refused(() => nodeConfig({ dataDir: "x", set: { "http.port": "-1", "retrieval.embedder.batching.maxBatch": "0" } }, {}), "http.port", "retrieval.embedder.batching.maxBatch");
  });

  test("colmena config - the retrieval kinds keep their data under dataDir unless retrieval.dataDir says otherwise", () => {
    assert.equal(nodeConfig({ dataDir: "/srv/colmena" }, {}).retrieval.shard.dataDir, join("/srv/colmena", "shards"));
    assert.equal(nodeConfig({ dataDir: "/srv/colmena", set: { "retrieval.dataDir": "/fast" } }, {}).retrieval.shard.dataDir, join("/fast", "shards"));
  });
});
