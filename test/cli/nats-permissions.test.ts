import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { nodeConfig, ROLES } from "../../cli/config.js";
import { generateNatsCreds } from "../../cli/nats-creds.js";
import { nodePermissions, rolePermissions, roleStores } from "../../cli/nats-permissions.js";
import { kindsOf } from "../../cli/node.js";

const config = nodeConfig({}, {});

test("nats permissions - a role's stores come from the kinds it hosts: the node buckets, keyed state, what each kind declares, and the bridge's keys and audit", () => {
  assert.deepEqual(roleStores("embedder", kindsOf(config, ["embedder"])), { logs: [], buckets: ["members", "placement"] });
  assert.deepEqual(roleStores("shard", kindsOf(config, ["shard"])), { logs: ["shardlog"], buckets: ["members", "placement", "state-index-shard"] });
  assert.deepEqual(roleStores("ingest", kindsOf(config, ["ingest"])), { logs: ["ingest", "ingest_failed", "shardlog"], buckets: ["members", "placement"] });
  assert.deepEqual(roleStores("session", kindsOf(config, ["session"])), { logs: ["shardlog"], buckets: ["cache-answer", "members", "placement", "state-session"] });
  assert.deepEqual(roleStores("bridge", kindsOf(config, ["bridge"])), { logs: ["audit"], buckets: ["api_keys", "members", "placement"] });
});

test("nats permissions - a role may publish to the actor subjects of its kinds and those they call, no other", () => {
  const pub = (role: (typeof ROLES)[number]) => rolePermissions("colmena", role, kindsOf(config, [role]), kindsOf(config, [...ROLES])).pub?.allow ?? [];
  assert.deepEqual(
    pub("embedder").filter((s) => s.startsWith("colmena.")),
    ["colmena.pool.embedder", "colmena.node.*.pool.embedder", "colmena.stream.*"],
    "the embedder calls no one",
  );
  const query = pub("query");
  for (const s of ["colmena.pool.embedder", "colmena.keyed.index-shard.*", "colmena.activate.index-shard", "colmena.node.*.activate.index-shard"]) assert.ok(query.includes(s), s);
  for (const s of ["colmena.pool.ingest", "colmena.pool.pipeline", "colmena.keyed.session.*", "colmena.pool.*"]) assert.ok(!query.includes(s), s);
  const bridge = pub("bridge");
  for (const s of ["colmena.pool.pipeline", "colmena.pool.ingest", "colmena.keyed.index-shard.*", "colmena.pool.embedder"]) assert.ok(bridge.includes(s), s);
  assert.ok(!bridge.includes("colmena.pool.llm") && !bridge.includes("colmena.keyed.session.*"), "the bridge reaches the llm and sessions only through the pipeline");
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
      // The rest of a nats.js CONNECT line (options, the client name, the nonce's signature) measured about 340 bytes.
      assert.ok(jwt.length + 400 < 4096, `${role}: a JWT of ${jwt.length} bytes`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("nats permissions - a node of several roles may do what each role may, reads the roles' and the multi-role inbox only, and gets no whole family of subjects", () => {
  const node = nodePermissions("colmena", (role) => kindsOf(config, [role]));
  const [pub, sub] = [node.pub?.allow ?? [], node.sub?.allow ?? []];
  for (const role of ROLES) {
    const p = rolePermissions("colmena", role, kindsOf(config, [role]), kindsOf(config, [...ROLES]));
    for (const s of p.pub?.allow ?? []) assert.ok(pub.includes(s), `${role} publishes ${s}`);
    for (const s of p.sub?.allow ?? []) assert.ok(sub.includes(s), `${role} subscribes ${s}`);
  }
  assert.deepEqual(sub.filter((s) => s.startsWith("_INBOX")).sort(), [...ROLES.map((r) => `_INBOX.${r}.>`), "_INBOX.node.>"].sort(), "no service's inbox, nor nats.js's default");
  for (const s of ["colmena.>", "$JS.API.>", "$KV.>", "_INBOX.>", ">", "$JS.API.STREAM.LIST"]) assert.ok(!pub.includes(s) && !sub.includes(s), s);
  assert.ok(pub.includes("$KV.colmena_api_keys.>"), "colmena keys writes the API-key bucket on this user");
});

test("nats permissions - the node user's JWT fits the generated server configuration's control line (16 KiB)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "colmena-perm-"));
  try {
    const layout = await generateNatsCreds(dir, ["colmena"], (role) => kindsOf(config, [role]));
    const jwt = (await readFile(layout.namespaces.colmena!.node, "utf8")).split("\n")[1]!;
    assert.ok(jwt.length + 400 < 16_384, `a JWT of ${jwt.length} bytes`);
    assert.match(await readFile(layout.serverConfig, "utf8"), /max_control_line: 16384/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
