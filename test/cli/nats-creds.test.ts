import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { SERVICE_INBOX_PREFIX } from "../../cli/nats-creds.js";
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
  const as = async (name: string) => connect({ servers: server.url, authenticator: credsAuthenticator(await readFile(creds(name))) });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-roles-"));
    const made = await runColmena(["nats", "creds", "--out", join(dir, "creds")]);
    assert.equal(made.code, 0, made.stderr);
    server = await startNatsServer({ storeDir: join(dir, "js"), extraArgs: ["-c", join(dir, "creds", "nats-server.conf")] });
    // The bridge asks the embedder for its model as it starts: it comes last.
    for (const role of ["embedder", "shard", "ingest", "query", "llm", "session", "bridge"]) {
      nodes.push(await startColmenaNode(["--roles", role, "--nats", server.url, "--set", `nats.auth=${JSON.stringify({ type: "creds", credsFile: creds(role) })}`]));
    }
  });

  after(async () => {
    for (const node of nodes.reverse()) assert.equal(await node.stop(), 0);
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    console.log(["NATS permission matrix, role users (case | expected | observed):", ...roleMatrix.map((o) => `  ${o.row.padEnd(52)} | ${o.expected.padEnd(7)} | ${o.got}`)].join("\n"));
  });

  test("colmena nats creds - ingest and a question go through every role, each under its own permissions", async () => {
    const bridge = nodes.at(-1)!.httpUrl;
    const ingest = await fetch(`${bridge}/v1/documents`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ documents: [{ id: "bees", text: "Bees make honey from nectar in the hive." }] }) });
    assert.equal(ingest.status, 202, await ingest.clone().text());
    // Indexing follows the durable write: ask until the answer cites the document.
    await waitFor("the answer cites the ingested document", async () => {
      const res = await fetch(`${bridge}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "What do bees make?" }) });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { sources: unknown[] }).sources.length > 0;
    });
    for (const node of nodes) assert.doesNotMatch(node.output(), /Permissions Violation/i, "a role's user lacks a subject its node uses");
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
    ["embedder", "publish", "colmena.pool.llm", "allowed"],
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

describe("colmena up --secure-nats - the embedded nats-server in operator mode", () => {
  let up: ColmenaProcess;
  const codec = new Codec();
  before(async () => {
    up = await startColmenaUp(["--secure-nats"]);
  });
  after(async () => {
    assert.equal(await up?.stop(), 0);
  });

  test("colmena up --secure-nats - nodes run on generated users; a client needs the service creds, and with them reaches only the API", async () => {
    const printed = /NATS auth: operator mode; service API clients: (\S+) \(inboxPrefix (\S+)\); nodes joining: (\S+)/.exec(up.output());
    assert.ok(printed, up.output());
    const [, serviceCreds, inboxPrefix, nodeCreds] = printed;
    assert.equal(serviceCreds, join(up.dataDir, "nats-creds", "colmena-service.creds"));
    await assert.rejects(connect({ servers: up.natsUrl, maxReconnectAttempts: 0 }), /Authorization|authorization/);
    const service = await connect({ servers: up.natsUrl, authenticator: credsAuthenticator(await readFile(serviceCreds!)), inboxPrefix: inboxPrefix! });
    try {
      const reply = await service.request("colmena.api.embed", codec.encode({ texts: ["bees"] }), { timeout: 10_000 });
      assert.equal((codec.decode(reply.data) as { vectors: unknown[] }).vectors.length, 1);
      await assert.rejects(service.request("colmena.pool.embedder", codec.encode({}), { timeout: 2_000 }), /Permissions Violation/);
    } finally {
      await service.close();
    }
    const made = await runColmena(["keys", "create", "--role", "reader", "--nats", up.natsUrl, "--creds", nodeCreds!, "--json"]);
    assert.equal(made.code, 0, made.stderr);
    assert.equal(made.stderr, "", "no audit stream without auth, and no complaint about it");
    const refused = await runColmena(["keys", "list", "--nats", up.natsUrl]);
    assert.equal(refused.code, 1, "no creds, no keys");
    assert.doesNotMatch(up.output(), /Permissions Violation/i);
  });
});
