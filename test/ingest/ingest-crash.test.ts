import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { IndexSpecSchema, IngestKind, ShardKind, shardKey, shardOf, waitForShards, type DocumentInput } from "../../actors/index.js";
import type { ActorSystem } from "../../runtime/index.js";
import type { NatsServer } from "../../nats/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { startScript, type ScriptProcess } from "../helpers/script-process.js";
import { startTestSystem } from "../helpers/system.js";
import { waitFor } from "../helpers/wait.js";

const script = fileURLToPath(new URL("../fixtures/ingest/ingest-node.js", import.meta.url));
const spec = IndexSpecSchema.parse({ name: "crashdocs", shards: 2, replicas: 1, dimension: 64 });
/** Redelivery of a document whose worker went silent: short, since a working worker renews its lease. */
const ACK_WAIT_MS = 3_000;
const DOCS = 400;

let server: NatsServer;
let dataDir: string;
let client: ActorSystem;
const children: ScriptProcess[] = [];

const startNode = async (nodeId: string) => {
  const p = await startScript(script, [server.url, dataDir, nodeId, JSON.stringify(spec), String(ACK_WAIT_MS)]);
  children.push(p);
  return p;
};

const doc = (n: number): DocumentInput => ({
  id: `crash-${n}`,
  text: Array.from({ length: 12 }, (_, i) => `Paragraph ${i} of document ${n}: streams keep messages, consumers acknowledge them.`).join("\n\n"),
});

before(async () => {
  server = await startTestServer();
  dataDir = await mkdtemp(join(tmpdir(), "colmena-ingest-crash-"));
  client = await startTestSystem(server.url, [], { nodeId: "crash-client" });
});

after(async () => {
  await Promise.all(children.map((c) => c.kill()));
  await client?.shutdown();
  await server?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test("ingest - SIGKILL while documents are being indexed: after a restart every acknowledged document becomes searchable", async (t) => {
  const first = await startNode("ingest-a");
  const ingest = client.pool(IngestKind);
  const acknowledged: string[] = [];
  for (let i = 0; i < DOCS; i += 50) {
    const { ids } = await ingest.ask({ type: "ingest", index: spec.name, documents: Array.from({ length: 50 }, (_, k) => doc(i + k)) });
    acknowledged.push(...ids);
  }
  const { pending } = await ingest.ask({ type: "progress" });
  assert.ok(pending > 0, "the kill must come while documents are still being indexed");
  await first.kill();

  await startNode("ingest-b");
  const restarted = Date.now();
  await waitFor(
    "every acknowledged document is searchable",
    async () => {
      if ((await ingest.ask({ type: "progress" })).pending > 0) return false;
      await waitForShards(client.storage, client, spec, { timeoutMs: 30_000 });
      const found = await Promise.all(
        acknowledged.map((id) => client.ref(ShardKind, shardKey(spec.name, shardOf(id, spec.shards), 0)).ask({ type: "document", docId: id })),
      );
      return found.every((d) => d !== null && d.chunks > 0);
    },
    // A guard against a hang, not a speed claim (the diagnostic below says how long it took): a busy machine took over 10 s.
    120_000,
  );
  t.diagnostic(`killed with ${pending} of ${DOCS} pending; all searchable ${Date.now() - restarted} ms after the restart`);
});
