import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { SERVICE_INBOX_PREFIX } from "../../cli/nats-creds.js";
import { Codec, startNatsServer, type NatsServer } from "../../nats/index.js";
import { runColmena, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";

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
