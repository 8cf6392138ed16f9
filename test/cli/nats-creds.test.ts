import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { SERVICE_INBOX_PREFIX } from "../../cli/nats-permissions.js";
import { Codec, startNatsServer, type NatsServer } from "../../nats/index.js";
import { runColmena, startColmenaNode, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";
import { waitFor } from "../helpers/wait.js";

type Outcome = "allowed" | "denied";
const observed: { row: string; expected: Outcome; got: string }[] = [];

describe("colmena nats creds - operator mode on nats-server 2.9, the service user confined to the service API", () => {
  let dir: string;
  let server: NatsServer;
  let up: ColmenaProcess;
  let service: NatsConnection;
  const codec = new Codec();
  const creds = (name: string) => join(dir, "creds", `colmena-${name}.creds`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-creds-"));
    const made = await runColmena(["nats", "creds", "--out", join(dir, "creds")]);
    assert.equal(made.code, 0, made.stderr);
    server = await startNatsServer({ storeDir: join(dir, "js"), extraArgs: ["-c", join(dir, "creds", "nats-server.conf")] });
    // Colmena's nodes run on the node user: the whole system works under operator mode.
    up = await startColmenaUp(["--nats", server.url, "--set", `nats.auth=${JSON.stringify({ type: "creds", credsFile: creds("node") })}`]);
    service = await connect({ servers: server.url, authenticator: credsAuthenticator(await readFile(creds("service"))), inboxPrefix: SERVICE_INBOX_PREFIX });
  });

  after(async () => {
    await service?.close();
    assert.equal(await up?.stop(), 0);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    console.log(["NATS permission matrix, service user (case | expected | observed):", ...observed.map((o) => `  ${o.row.padEnd(52)} | ${o.expected.padEnd(7)} | ${o.got}`)].join("\n"));
  });

  test("colmena nats creds - the creds files are readable by their owner only", async () => {
    for (const name of ["node", "service"]) assert.equal((await stat(creds(name))).mode & 0o077, 0, name);
  });

  const request = async (subject: string, body: unknown): Promise<string> => {
    try {
      const reply = await service.request(subject, codec.encode(body), { timeout: 5_000 });
      return `answered${reply.headers?.get("Nats-Service-Error-Code") ? ` ${reply.headers.get("Nats-Service-Error-Code")}` : ""}`;
    } catch (err) {
      return /Permissions Violation/.test((err as Error).message) ? "denied" : `failed: ${(err as Error).message}`;
    }
  };

  const allowedRequests: [string, unknown][] = [
    ["colmena.api.embed", { texts: ["bees make honey"] }],
    ["colmena.api.ingest", { documents: [{ id: "d1", text: "Bees make honey." }] }],
    ["colmena.api.query", { question: "What do bees make?" }],
    ["$SRV.PING.colmena", {}],
  ];
  for (const [subject, body] of allowedRequests) {
    test(`colmena nats creds - the service user may request ${subject}`, async () => {
      const got = await request(subject, body);
      observed.push({ row: `request ${subject}`, expected: "allowed", got });
      assert.equal(got, "answered");
    });
  }

  const deniedPublishes = [
    "colmena.pool.embedder",
    "colmena.keyed.session.s1",
    "colmena.activate.session",
    "colmena.node.n1.activate.session",
    "colmena.stream.abc",
    "colmena.ingest.docs",
    "$JS.API.STREAM.LIST",
    "$JS.API.STREAM.PURGE.colmena_ingest",
    "$KV.colmena_members.forged-node",
    "$KV.colmena_api_keys.0123456789abcdef",
  ];
  for (const subject of deniedPublishes) {
    test(`colmena nats creds - the service user may not publish on ${subject}`, async () => {
      const got = await request(subject, { anything: true });
      observed.push({ row: `publish ${subject}`, expected: "denied", got });
      assert.equal(got, "denied");
    });
  }

  const deniedSubscriptions = ["colmena.>", "colmena.pool.llm", "colmena.api.query", "_INBOX.>", "$KV.>", "$JS.>", "$KV.colmena_members.>"];
  for (const subject of deniedSubscriptions) {
    test(`colmena nats creds - the service user may not subscribe to ${subject}`, async () => {
      const sub = service.subscribe(subject);
      const closed = await Promise.race([sub.closed.then((err) => (err instanceof Error && /Permissions Violation/.test(err.message) ? "denied" : "closed")), service.flush().then(() => new Promise<string>((r) => setTimeout(() => r("subscribed"), 2_000)))]);
      sub.unsubscribe();
      observed.push({ row: `subscribe ${subject}`, expected: "denied", got: closed });
      assert.equal(closed, "denied");
    });
  }

  test("colmena nats creds - the service user cannot read the nodes' KV or streams through JetStream either", async () => {
    const got = await request("$JS.API.STREAM.MSG.GET.KV_colmena_api_keys", { last_by_subj: "$KV.colmena_api_keys.>" });
    observed.push({ row: "JetStream direct get on the API-key bucket", expected: "denied", got });
    assert.equal(got, "denied");
  });
});

describe("colmena nats creds - a cluster of one node per role, each on its own role's user", () => {
  let dir: string;
  let server: NatsServer;
  const nodes: ColmenaProcess[] = [];
  const roleMatrix: { row: string; expected: Outcome; got: string }[] = [];
  const creds = (name: string) => join(dir, "creds", `colmena-${name}.creds`);
  // A role's user reads replies on its own inbox prefix only (inboxPrefix in runtime/contract/subjects.ts).
  const as = async (name: string, inboxPrefix = `_INBOX.${name}`) => connect({ servers: server.url, authenticator: credsAuthenticator(await readFile(creds(name))), inboxPrefix });
  let apiKey: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-roles-"));
    const made = await runColmena(["nats", "creds", "--out", join(dir, "creds")]);
    assert.equal(made.code, 0, made.stderr);
    server = await startNatsServer({ storeDir: join(dir, "js"), extraArgs: ["-c", join(dir, "creds", "nats-server.conf")] });
    // The bridge asks the embedder for its model as it starts: it comes last.
    // The bridge checks API keys: its user needs the key bucket and the audit stream too.
    for (const role of ["embedder", "shard", "ingest", "query", "llm", "session", "bridge"]) {
      const auth = role === "bridge" ? ["--set", "http.auth.mode=keys"] : [];
      nodes.push(await startColmenaNode(["--roles", role, "--nats", server.url, "--creds", creds(role), ...auth]));
    }
    const key = await runColmena(["keys", "create", "--role", "writer", "--nats", server.url, "--creds", creds("node"), "--json"]);
    assert.equal(key.code, 0, key.stderr);
    apiKey = (JSON.parse(key.stdout) as { key: string }).key;
  });

  after(async () => {
    for (const node of nodes.reverse()) assert.equal(await node.stop(), 0);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    console.log(["NATS permission matrix, role users (case | expected | observed):", ...roleMatrix.map((o) => `  ${o.row.padEnd(52)} | ${o.expected.padEnd(7)} | ${o.got}`)].join("\n"));
  });

  test("colmena nats creds - ingest, questions (whole, streamed, in a session), a key check and a delete go through every role, each under its own permissions", async () => {
    const bridge = nodes.at(-1)!.httpUrl;
    const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };
    const post = (path: string, body: unknown) => fetch(`${bridge}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    const ingest = await post("/v1/documents", { documents: [{ id: "bees", text: "Bees make honey from nectar in the hive." }] });
    assert.equal(ingest.status, 202, await ingest.clone().text());
    // Indexing follows the durable write: ask until the answer cites the document.
    let session = "";
    await waitFor("the answer cites the ingested document", async () => {
      const res = await post("/v1/query", { question: "What do bees make?" });
      assert.equal(res.status, 200, await res.clone().text());
      const answer = (await res.json()) as { sources: unknown[]; session_id: string };
      session = answer.session_id;
      return answer.sources.length > 0;
    });
    const followUp = await post("/v1/query", { question: "And where?", session_id: session });
    assert.equal(followUp.status, 200, await followUp.clone().text());
    const streamed = await post("/v1/chat/completions", { model: "extractive", stream: true, messages: [{ role: "user", content: "What do bees make?" }] });
    assert.equal(streamed.status, 200);
    assert.match(await streamed.text(), /data: \[DONE\]/);
    assert.equal((await fetch(`${bridge}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status, 401);
    const deleted = await fetch(`${bridge}/v1/documents/bees`, { method: "DELETE", headers: { authorization: `Bearer ${apiKey}` } });
    assert.equal(deleted.status, 200, await deleted.clone().text());
    for (const node of nodes) assert.doesNotMatch(node.output(), /Permissions Violation/i, "a role's user lacks a subject its node uses");
  });

  test("colmena nats creds - a role's user gets replies on its own inbox prefix, and cannot subscribe to another role's", async () => {
    const embedder = await as("embedder");
    try {
      // Any answer (here the actor's INVALID for a message that is not one) proves the reply reached the embedder's inbox.
      const reply = await embedder.request("colmena.pool.embedder", new Uint8Array(), { timeout: 10_000 });
      roleMatrix.push({ row: "embedder: request/reply on _INBOX.embedder", expected: "allowed", got: "allowed" });
      assert.ok(reply);
      for (const [inbox, expected] of [["_INBOX.embedder.>", "allowed"], ["_INBOX.bridge.>", "denied"], ["_INBOX.session.abc.*", "denied"], ["_INBOX.>", "denied"], ["_INBOX.service.>", "denied"]] as const) {
        const got = await subscribeOutcome(embedder, inbox);
        roleMatrix.push({ row: `embedder: subscribe ${inbox}`, expected, got });
        assert.equal(got, expected, inbox);
      }
    } finally {
      await embedder.close();
    }
    // On the default inbox prefix its replies cannot be received at all: the request fails, it does not wait for a timeout.
    const wrongPrefix = await as("embedder", "_INBOX");
    try {
      const got = await publishOutcome(wrongPrefix, "colmena.pool.embedder");
      roleMatrix.push({ row: "embedder: request with replies on _INBOX.<nuid>", expected: "denied", got });
      assert.equal(got, "denied");
    } finally {
      await wrongPrefix.close();
    }
  });

  const subscribeOutcome = async (nc: NatsConnection, subject: string): Promise<string> => {
    const sub = nc.subscribe(subject);
    const got = await Promise.race([
      sub.closed.then((err) => (err instanceof Error && /Permissions Violation/.test(err.message) ? "denied" : "closed")),
      nc.flush().then(() => new Promise<string>((r) => setTimeout(() => r("allowed"), 1_000))),
    ]);
    sub.unsubscribe();
    return got;
  };
  const publishOutcome = async (nc: NatsConnection, subject: string): Promise<string> => {
    try {
      await nc.request(subject, new Uint8Array(), { timeout: 2_000 });
      return "allowed";
    } catch (err) {
      return /Permissions Violation/.test((err as Error).message) ? "denied" : "allowed"; // no responders or a timeout: the server let it through
    }
  };

  const rows: [user: string, op: "subscribe" | "publish", subject: string, expected: Outcome][] = [
    ["embedder", "subscribe", "colmena.pool.embedder", "allowed"],
    ["embedder", "subscribe", "colmena.pool.llm", "denied"],
    ["embedder", "subscribe", "colmena.keyed.session.s1", "denied"],
    ["embedder", "subscribe", "colmena.api.query", "denied"],
    ["embedder", "publish", "colmena.api.query", "denied"],
    ["embedder", "publish", "colmena.pool.llm", "denied"],
    ["embedder", "publish", "colmena.pool.embedder", "allowed"],
    ["query", "publish", "colmena.keyed.index-shard.default-0-r0", "allowed"],
    ["query", "publish", "colmena.pool.ingest", "denied"],
    ["bridge", "publish", "colmena.pool.pipeline", "allowed"],
    ["bridge", "publish", "colmena.pool.llm", "denied"],
    ["bridge", "publish", "colmena.keyed.session.s1", "denied"],
    ["embedder", "publish", "$JS.API.STREAM.INFO.KV_colmena_members", "allowed"],
    ["embedder", "publish", "$JS.API.STREAM.INFO.colmena_ingest", "denied"],
    ["embedder", "publish", "$KV.colmena_api_keys.0123456789abcdef", "denied"],
    ["embedder", "publish", "$JS.API.STREAM.LIST", "denied"],
    ["embedder", "publish", "colmena.shardlog.default.0", "denied"],
    ["ingest", "publish", "$JS.API.STREAM.INFO.colmena_ingest", "allowed"],
    ["ingest", "publish", "$JS.API.CONSUMER.INFO.colmena_ingest.ingest-workers", "allowed"],
    ["ingest", "publish", "$KV.colmena_state-session.s1", "denied"],
    ["shard", "publish", "$JS.API.STREAM.INFO.colmena_shardlog", "allowed"],
    ["shard", "publish", "$JS.API.STREAM.INFO.colmena_ingest", "denied"],
    ["session", "publish", "$JS.API.STREAM.INFO.KV_colmena_state-session", "allowed"],
    ["session", "publish", "$JS.API.STREAM.INFO.KV_colmena_state-index-shard", "denied"],
    ["session", "publish", "$JS.API.STREAM.DELETE.colmena_ingest", "denied"],
    ["query", "publish", "$JS.API.STREAM.INFO.KV_colmena_cache-answer", "denied"],
    ["llm", "publish", "$JS.API.STREAM.INFO.colmena_shardlog", "denied"],
    ["bridge", "publish", "$JS.API.STREAM.INFO.KV_colmena_api_keys", "allowed"],
    ["bridge", "publish", "colmena.ingest.docs.default", "denied"],
    ["bridge", "publish", "$JS.API.CONSUMER.MSG.NEXT.colmena_ingest.ingest-workers", "denied"],
    ["llm", "subscribe", "colmena.pool.pipeline", "denied"],
    ["session", "subscribe", "colmena.keyed.session.s1", "allowed"],
    ["session", "subscribe", "colmena.activate.index-shard", "denied"],
    ["shard", "subscribe", "colmena.pool.embedder", "denied"],
    ["bridge", "subscribe", "colmena.api.query", "allowed"],
    ["bridge", "subscribe", "colmena.pool.embedder", "denied"],
    ["bridge", "subscribe", "colmena.>", "denied"],
  ];
  for (const [user, op, subject, expected] of rows) {
    test(`colmena nats creds - the ${user} user ${expected === "allowed" ? "may" : "may not"} ${op} ${subject}`, async () => {
      const nc = await as(user);
      try {
        const got = op === "subscribe" ? await subscribeOutcome(nc, subject) : await publishOutcome(nc, subject);
        roleMatrix.push({ row: `${user}: ${op} ${subject}`, expected, got });
        assert.equal(got, expected);
      } finally {
        await nc.close();
      }
    });
  }
});

describe("colmena up - the embedded nats-server runs in operator mode by default", () => {
  let up: ColmenaProcess;
  const codec = new Codec();
  before(async () => {
    up = await startColmenaUp();
  });
  after(async () => {
    assert.equal(await up?.stop(), 0);
  });

  test("colmena up - nodes run on generated users; a client needs the service creds, and with them reaches only the API", async () => {
    assert.ok(up.creds, up.output());
    const { service: serviceCreds, serviceInboxPrefix, node: nodeCreds } = up.creds;
    assert.equal(serviceCreds, join(up.dataDir, "nats-creds", "colmena-service.creds"));
    for (const file of [serviceCreds, nodeCreds, join(up.dataDir, "nats-creds", "colmena-bridge.creds")]) assert.equal((await stat(file)).mode & 0o077, 0, `${file} is readable by its owner only`);
    assert.equal((await stat(join(up.dataDir, "nats-creds"))).mode & 0o077, 0, "and so is its folder");
    await assert.rejects(connect({ servers: up.natsUrl, maxReconnectAttempts: 0 }), /Authorization|authorization/);
    const service = await connect({ servers: up.natsUrl, authenticator: credsAuthenticator(await readFile(serviceCreds)), inboxPrefix: serviceInboxPrefix });
    try {
      const reply = await service.request("colmena.api.embed", codec.encode({ texts: ["bees"] }), { timeout: 10_000 });
      assert.equal((codec.decode(reply.data) as { vectors: unknown[] }).vectors.length, 1);
      await assert.rejects(service.request("colmena.pool.embedder", codec.encode({}), { timeout: 2_000 }), /Permissions Violation/);
    } finally {
      await service.close();
    }
    // On the machine that runs it, colmena keys finds the node user's creds in the data directory.
    const made = await runColmena(["keys", "create", "--role", "reader", "--nats", up.natsUrl, "--data-dir", up.dataDir, "--json"]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stderr, "", "no audit stream without auth, and no complaint about it");
    const refused = await runColmena(["keys", "list", "--nats", up.natsUrl, "--data-dir", join(up.dataDir, "elsewhere")]);
    assert.equal(refused.code, 1, "no creds, no keys");
    assert.doesNotMatch(up.output(), /Permissions Violation/i);
  });
});

describe("colmena up --insecure-nats - the opt-out for development", () => {
  let up: ColmenaProcess;
  before(async () => {
    up = await startColmenaUp(["--insecure-nats"]);
  });
  after(async () => {
    assert.equal(await up?.stop(), 0);
  });

  test("colmena up --insecure-nats - says so in the banner, and any client may connect", async () => {
    assert.equal(up.creds, undefined);
    assert.match(up.output(), /NATS auth: none \(--insecure-nats\)/);
    const nc = await connect({ servers: up.natsUrl, maxReconnectAttempts: 0 });
    await nc.close();
  });
});
