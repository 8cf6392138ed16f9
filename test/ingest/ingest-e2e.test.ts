import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  CoordinatorKind,
  coordinatorActor,
  embedderActor,
  ensureShards,
  IndexSpecSchema,
  ingestActor,
  ingestDocuments,
  ingestSubject,
  openIngestLog,
  IngestKind,
  ShardKind,
  shardActor,
  shardKey,
  shardOf,
  type DocumentInput,
} from "../../actors/index.js";
import { isColmenaError, type ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { mapLimit, waitForIngest } from "../helpers/retrieval.js";
import { startTestSystem } from "../helpers/system.js";

const spec = IndexSpecSchema.parse({ name: "docs", shards: 3, replicas: 2, dimension: 384 });
const indexes = [spec];
const DOCS = 300;
const WORDS = "stream consumer subject queue reply header cluster leaf gateway account token nkey jwt bucket object mirror source lease".split(" ");

let server: NatsServer;
let system: ActorSystem;
let dataDir: string;

/** A markdown document with two sections; its three unique marker words sit in the second one. */
function makeDoc(n: number, marker = `zq${n}`): DocumentInput {
  const words = (count: number, seed: number) => Array.from({ length: count }, (_, i) => WORDS[(seed * 7 + i * 13) % WORDS.length]).join(" ");
  const text = [
    `# Guide ${n}`,
    "",
    `${words(40 + (n % 50), n)}.`,
    "",
    "## Details",
    "",
    `The ${markers(marker)} settings control ${words(20, n + 1)}.`,
    "",
    words(60 + (n % 90), n + 2),
  ].join("\n");
  return { id: `doc-${n}`, text, metadata: { group: n % 3, source: `guide-${n}.md` } };
}

const markers = (marker: string) => `${marker}alpha ${marker}beta ${marker}gamma`;

const ask = (question: string, extra: { filter?: Record<string, string | number | boolean>; topK?: number } = {}) =>
  system.pool(CoordinatorKind).ask({ type: "query", question, topK: extra.topK ?? 5, ...(extra.filter && { filter: extra.filter }) }, { timeoutMs: 10_000 });

before(async () => {
  server = await startTestServer();
  dataDir = await mkdtemp(join(tmpdir(), "colmena-ingest-"));
  system = await startTestSystem(server.url, [
    embedderActor(),
    shardActor({ dataDir, indexes, snapshotEveryWrites: 250 }),
    ingestActor({ indexes, chunking: { maxChars: 300, overlapChars: 30 }, inFlight: 8 }),
    coordinatorActor({ indexes }),
  ]);
  await ensureShards(system, spec);
});

after(async () => {
  await system?.shutdown();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("ingest - every acknowledged document of a generated corpus is searchable through the coordinator", async () => {
  const docs = Array.from({ length: DOCS }, (_, n) => makeDoc(n));
  const ids: string[] = [];
  for (let i = 0; i < docs.length; i += 50) {
    const reply = await system.pool(IngestKind).ask({ type: "ingest", index: "docs", documents: docs.slice(i, i + 50) });
    ids.push(...reply.ids);
  }
  assert.deepEqual(ids, docs.map((d) => d.id));
  await waitForIngest(system, spec);

  const progress = await system.pool(IngestKind).ask({ type: "progress" });
  assert.equal(progress.pending, 0);
  assert.equal(progress.documents, DOCS);
  assert.equal(progress.errors, 0, JSON.stringify(progress.lastErrors));
  assert.ok(progress.chunksWritten > DOCS, `documents were split (${progress.chunksWritten} chunks)`);

  const misses = (
    await mapLimit(docs, 16, async (doc, n) => {
      const answer = await ask(`what do ${markers(`zq${n}`)} control`);
      assert.equal(answer.partial, false);
      return answer.hits[0]?.docId === doc.id ? [] : [doc.id];
    })
  ).flat();
  assert.deepEqual(misses, []);

  // Every replica of a shard holds the same chunks: each applied the same log.
  const sizes = await Promise.all(
    Array.from({ length: spec.shards }, (_, s) =>
      Promise.all([0, 1].map((r) => system.ref(ShardKind, shardKey("docs", s, r)).ask({ type: "stats" }).then((st) => st.size))),
    ),
  );
  for (const [r0, r1] of sizes) assert.equal(r0, r1);
  assert.equal(sizes.reduce((sum, [r0]) => sum + r0!, 0), progress.chunksWritten);

  const doc7 = await system.ref(ShardKind, shardKey("docs", shardOf("doc-7", spec.shards), 1)).ask({ type: "document", docId: "doc-7" });
  assert.deepEqual(doc7 && { ...doc7, chunks: doc7.chunks > 1 }, { docId: "doc-7", chunks: true, metadata: { group: 1, source: "guide-7.md", title: "Guide 7" } });
  assert.equal(await system.ref(ShardKind, shardKey("docs", shardOf("doc-7", spec.shards), 0)).ask({ type: "document", docId: "nope" }), null);

  const hit = (await ask(markers("zq7"))).hits[0]!;
  assert.equal(hit.metadata.source, "guide-7.md");
  assert.equal(hit.metadata.heading, "Guide 7 > Details");
  assert.ok(hit.text.includes("zq7alpha"));
});

test("ingest - filters restrict the answer to matching metadata", async () => {
  const answer = await ask("stream consumer subject", { filter: { group: 1 }, topK: 20 });
  assert.ok(answer.hits.length > 0);
  for (const h of answer.hits) assert.equal(h.metadata.group, 1);
  const none = await ask(markers("zq4"), { filter: { group: 2 } }); // doc-4 is in group 1
  assert.ok(none.hits.every((h) => h.docId !== "doc-4"));
});

test("ingest - deleting a document removes it and re-ingesting replaces its chunks", async () => {
  const deleted = Array.from({ length: 20 }, (_, i) => `doc-${i * 3}`);
  for (const docId of deleted) {
    const reply = await system.pool(IngestKind).ask({ type: "delete", index: "docs", docId });
    assert.deepEqual(reply.ids, [docId]);
  }
  // doc-1 comes back with new text: its old marker must go, the new one must be found.
  await system.pool(IngestKind).ask({ type: "ingest", index: "docs", documents: [makeDoc(1, "zqreplaced")] });
  await waitForIngest(system, spec);

  for (const docId of deleted) {
    const n = Number(docId.slice(4));
    const answer = await ask(markers(`zq${n}`), { topK: 20 });
    assert.ok(answer.hits.every((h) => h.docId !== docId), `${docId} is gone`);
  }
  const shard = shardOf("doc-1", spec.shards);
  const stored = await system.ref(ShardKind, shardKey("docs", shard, 0)).ask({ type: "get", ids: ["doc-1#0", "doc-1#1", "doc-1#2", "doc-1#3"] });
  assert.ok(stored.length > 0);
  assert.ok(stored.every((c) => !c.text.includes("zq1alpha")));
  assert.equal((await ask(markers("zqreplaced"))).hits[0]?.docId, "doc-1");
  assert.ok((await ask(markers("zq1"), { topK: 20 })).hits.every((h) => !h.text.includes("zq1alpha")));
  assert.equal((await ask(markers("zq2"))).hits[0]?.docId, "doc-2", "documents that were left alone stay");
});

test("ingest - a poison entry in the ingest stream is given up and counted; the documents after it are indexed", async () => {
  const progress = () => system.pool(IngestKind).ask({ type: "progress" });
  const before = await progress();
  const log = await openIngestLog(system.storage);
  await log.append(ingestSubject(log, "docs"), { op: 2n ** 64n - 1n, index: "docs" });
  await log.append(ingestSubject(log, "docs"), { op: "upsert", index: "docs", doc: { id: "x".repeat(600), text: "too long an id" } });
  const [id] = await system.pool(IngestKind).ask({ type: "ingest", index: "docs", documents: [makeDoc(2000)] }).then((r) => r.ids);
  await waitForIngest(system, spec);
  const after = await progress();
  assert.equal(after.errors, before.errors + 2);
  assert.equal(after.documents, before.documents + 1);
  assert.equal((await ask(markers("zq2000"))).hits[0]?.docId, id);
  // The figures come from the streams: stored entries are indexed or given up, and the failures are kept in their own log.
  assert.equal(after.stored, before.stored + 3);
  assert.deepEqual([after.pending, after.indexed + after.errors], [0, after.stored]);
  assert.deepEqual(
    after.lastErrors.slice(-2).map((e) => [e.docId.startsWith("seq:") || e.docId === "x".repeat(600), e.code]),
    [
      [true, "INVALID"],
      [true, "INVALID"],
    ],
  );
  // Another instance, started afresh with no worker (as after a restart), reads the same figures.
  const other = await startTestSystem(server.url, [ingestActor({ indexes, workers: false })]);
  try {
    const fresh = await other.pool(IngestKind).ask({ type: "progress" });
    assert.deepEqual([fresh.stored, fresh.indexed, fresh.errors, fresh.lastErrors], [after.stored, after.indexed, after.errors, after.lastErrors]);
  } finally {
    await other.shutdown();
  }
});

test("ingest - bad documents are INVALID and nothing of the batch is stored", async () => {
  const before = (await system.pool(IngestKind).ask({ type: "progress" })).documents;
  await assert.rejects(
    system.pool(IngestKind).ask({ type: "ingest", index: "docs", documents: [makeDoc(1000), { id: "empty", text: "   " }] }),
    (err) => isColmenaError(err, "INVALID") && /documents\.1\.text/.test(err.message),
  );
  await assert.rejects(system.pool(IngestKind).ask({ type: "ingest", index: "nope", documents: [makeDoc(1001)] }), (err) => isColmenaError(err, "NOT_FOUND"));
  // The plain function validates too, before publishing.
  await assert.rejects(ingestDocuments(await openIngestLog(system.storage), [{ id: "", text: "x" }], { index: "docs" }), (err) => isColmenaError(err, "INVALID"));
  await waitForIngest(system, spec);
  assert.equal((await system.pool(IngestKind).ask({ type: "progress" })).documents, before);
});
