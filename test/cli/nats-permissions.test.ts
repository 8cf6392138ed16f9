import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeConfig, ROLES } from "../../cli/config.js";
import { generateNatsCreds } from "../../cli/nats-creds.js";
import { rolePermissions, roleStores } from "../../cli/nats-permissions.js";
import { kindsOf } from "../../cli/node.js";

const config = nodeConfig({}, {});

test("nats permissions - a role's stores come from the kinds it hosts: the node buckets, keyed state, what each kind declares, and the bridge's keys and audit", () => {
  assert.deepEqual(roleStores("embedder", kindsOf(config, ["embedder"])), { logs: [], buckets: ["members", "placement"] });
  assert.deepEqual(roleStores("shard", kindsOf(config, ["shard"])), { logs: ["shardlog"], buckets: ["members", "placement", "state-index-shard"] });
  assert.deepEqual(roleStores("ingest", kindsOf(config, ["ingest"])), { logs: ["ingest", "shardlog"], buckets: ["members", "placement"] });
  assert.deepEqual(roleStores("session", kindsOf(config, ["session"])), { logs: ["shardlog"], buckets: ["cache-answer", "members", "placement", "state-session"] });
  assert.deepEqual(roleStores("bridge", kindsOf(config, ["bridge"])), { logs: ["audit"], buckets: ["api_keys", "members", "placement"] });
});

test("nats permissions - no role is given a whole family of subjects: not the namespace, JetStream, KV or every inbox", () => {
  const wide = new Set(["colmena.>", "$JS.API.>", "$JS.>", "$KV.>", "_INBOX.>", ">", "$JS.API.STREAM.>", "$JS.API.CONSUMER.>"]);
  for (const role of ROLES) {
    const p = rolePermissions("colmena", role, kindsOf(config, [role]));
    for (const subject of [...(p.pub?.allow ?? []), ...(p.sub?.allow ?? [])]) assert.ok(!wide.has(subject), `${role} may use ${subject}`);
    assert.ok(p.sub?.allow?.includes(`_INBOX.${role}.>`), `${role} reads its own replies`);
    assert.equal(p.sub?.allow?.filter((s) => s.startsWith("_INBOX")).length, 1, `${role} reads no other inbox`);
  }
});

test("nats permissions - every role's JWT fits nats-server's default control line (4 KiB) with the rest of its CONNECT", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-perm-"));
  try {
    const layout = await generateNatsCreds(dir, ["colmena"], (role) => kindsOf(config, [role]));
    for (const [role, file] of Object.entries(layout.namespaces.colmena!.roles)) {
      const jwt = (await readFile(file, "utf8")).split("\n")[1]!;
      // The rest of a nats.js CONNECT line (options, the nonce's signature) is well under 600 bytes.
      assert.ok(jwt.length + 600 < 4096, `${role}: a JWT of ${jwt.length} bytes`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
