import assert from "node:assert/strict";
import { test } from "node:test";
import { RetrievalConfigSchema, retrievalKinds } from "../../actors/index.js";

test("retrieval config - one index layout feeds every kind, and errors name the kind's key", () => {
  const config = RetrievalConfigSchema.parse({ dataDir: "/var/colmena", indexes: [{ name: "docs", shards: 4 }], ingest: { inFlight: 4 } });
  assert.equal(config.shard.dataDir, "/var/colmena/shards");
  assert.deepEqual(config.query.indexes.map((i) => [i.name, i.shards, i.replicas, i.dimension]), [["docs", 4, 1, 384]]);
  assert.equal(config.ingest.inFlight, 4);
  assert.equal(config.embedder.backend, "hash");
  assert.deepEqual(retrievalKinds(config).map((k) => `${k.kind}:${k.placement}`), ["embedder:pooled", "index-shard:keyed", "ingest:pooled", "query-coordinator:pooled"]);
  assert.deepEqual(retrievalKinds(config, ["query"]).map((k) => k.kind), ["query-coordinator"]);

  assert.equal(RetrievalConfigSchema.parse({}).indexes[0]!.name, "default");
  const paths = (input: unknown) => RetrievalConfigSchema.safeParse(input).error?.issues.map((i) => i.path.join("."));
  assert.deepEqual(paths({ shard: { snapshotEveryWrites: 0 } }), ["shard.snapshotEveryWrites"]);
  assert.deepEqual(paths({ embedder: { backend: "onnx" } }), ["embedder.modelDir"]);
  assert.deepEqual(paths({ indexes: [{ name: "a" }, { name: "a" }] }), ["indexes"]);
  assert.deepEqual(paths({ indexes: [{ name: "a.b" }] }), ["indexes.0.name"]);
});
