import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import type { NatsConnection } from "@nats-io/transport-node";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { request } from "undici";
import { AuditLog, AuthOptionsSchema, buildHttpBridge, createAuthenticator, KeyStore, type AuditEvent, type Authenticator, type HttpBridgeOptions } from "../../bridge/index.js";
import { connectNats, openBucket, type NatsServer } from "../../nats/index.js";
import { systemClock } from "../../runtime/index.js";
import { startTestServer } from "../helpers/nats-server.js";
import { waitFor } from "../helpers/wait.js";
import { AUDIENCE, ISSUER, tokenMint, type TokenMint } from "./auth-fixtures.js";
import { FakeRagApi } from "./fake-rag-api.js";

const NAMESPACE = "authtest";
type Reply = { status: number; code: string | undefined };

interface Row {
  name: string;
  method: "GET" | "POST" | "DELETE";
  path: string;
  credential: () => Promise<Record<string, string>> | Record<string, string>;
  body?: unknown;
  status: number;
  code?: string;
}

/** Every row observed, for the matrix printed at the end (and the closing note). */
const observed: { name: string; expected: string; got: string }[] = [];

describe("http auth - the matrix against real bridges on a real nats-server", () => {
  let nats: NatsServer;
  let dir: string;
  let mint: TokenMint;
  let store: KeyStore;
  const connections: NatsConnection[] = [];
  const bridges: { app: FastifyInstance; url: string; auth: Authenticator }[] = [];
  const logged: string[] = [];
  const keys: Record<string, string> = {};
  const ids: Record<string, string> = {};
  let audit: AuditLog;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const call = async (url: string, row: Pick<Row, "method" | "path" | "body">, headers: Record<string, string>): Promise<Reply> => {
    const res = await request(`${url}${row.path}`, {
      method: row.method,
      headers: { ...headers, ...(row.body !== undefined && { "content-type": "application/json" }) },
      ...(row.body !== undefined && { body: JSON.stringify(row.body) }),
    });
    const text = await res.body.text();
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
    } catch {
      code = undefined;
    }
    return { status: res.statusCode, code };
  };

  before(async () => {
    nats = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "colmena-auth-"));
    mint = await tokenMint(join(dir, "jwks.json"));
    const quiet = pino({ level: "silent" });
    const connect = async () => {
      const nc = await connectNats({ servers: nats.url, name: "auth-test" }, quiet);
      connections.push(nc);
      return nc;
    };
    store = await KeyStore.open(await connect(), NAMESPACE);
    for (const role of ["reader", "writer", "admin"] as const) {
      const made = await store.create({ role, name: `${role} key` });
      keys[role] = made.key;
      ids[role] = made.info.id;
    }
    const revoked = await store.create({ role: "reader", name: "to revoke" });
    keys.revoked = revoked.key;
    ids.revoked = revoked.info.id;
    keys.expired = (await store.create({ role: "admin", expires: new Date(Date.now() - 60_000).toISOString() })).key;

    // Every line either bridge logs, at trace level, to check no key or token reaches the log.
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logged.push(chunk.toString()), done()) });
    const log = pino({ level: "trace" }, sink);
    const options = { auth: { mode: "both", metricsNeedAuth: true, jwt: { jwks: mint.jwksFile, issuer: ISSUER, audience: AUDIENCE, clockToleranceSec: 5 } } } satisfies HttpBridgeOptions;
    for (let i = 0; i < 2; i++) {
      const nc = await connect();
      const auth = (await createAuthenticator(AuthOptionsSchema.parse(options.auth), { nc, namespace: NAMESPACE, log, clock: systemClock }))!;
      if (i === 0) audit = await AuditLog.open(nc, NAMESPACE, { maxAgeMs: 3_600_000 }, log, "bridge-1");
      const app = buildHttpBridge(new FakeRagApi(), { ...options, log, authenticator: auth, ...(i === 0 && { audit }) });
      await app.listen({ port: 0, host: "127.0.0.1" });
      bridges.push({ app, auth, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` });
    }
  });

  after(async () => {
    for (const b of bridges) {
      await b.app.close();
      b.auth.stop();
    }
    for (const nc of connections) await nc.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
    const width = Math.max(...observed.map((o) => o.name.length));
    console.log(["auth matrix (case | expected | observed):", ...observed.map((o) => `  ${o.name.padEnd(width)} | ${o.expected.padEnd(16)} | ${o.got}`)].join("\n"));
  });

  const otherKeyWithWrongSecret = () => bearer(`${keys.reader!.slice(0, -6)}AAAAAA`);
  const jwt = (claims: Record<string, unknown>, o?: Parameters<TokenMint["sign"]>[1]) => async () => bearer(await mint.sign({ sub: "user-1", ...claims }, o));
  const query = { method: "POST", path: "/v1/query", body: { question: "hello" } } as const;
  const models = { method: "GET", path: "/v1/models" } as const;
  const ingest = { method: "POST", path: "/v1/documents", body: { documents: [{ id: "d1", text: "hello world" }] } } as const;
  const status = { method: "GET", path: "/v1/status" } as const;

  const rows: Row[] = [
    { name: "no credentials", ...models, credential: () => ({}), status: 401, code: "UNAUTHORIZED" },
    { name: "malformed header (Basic)", ...models, credential: () => ({ authorization: `Basic ${keys.reader}` }), status: 401, code: "UNAUTHORIZED" },
    { name: "malformed header (Bearer, two words)", ...models, credential: () => ({ authorization: "Bearer a b" }), status: 401, code: "UNAUTHORIZED" },
    { name: "not a key nor a JWT", ...models, credential: () => bearer("hunter2-hunter2"), status: 401, code: "UNAUTHORIZED" },
    { name: "wrong secret for a real key id", ...models, credential: otherKeyWithWrongSecret, status: 401, code: "UNAUTHORIZED" },
    { name: "unknown key id", ...models, credential: () => bearer(`colmena_0123456789abcdef_${"A".repeat(43)}`), status: 401, code: "UNAUTHORIZED" },
    { name: "expired key", ...status, credential: () => bearer(keys.expired!), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT expired", ...models, credential: jwt({ role: "reader" }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT not yet valid", ...models, credential: jwt({ role: "reader" }, { notBefore: "5m" }), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT bad signature", ...models, credential: jwt({ role: "reader" }, { stranger: true }), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT wrong issuer", ...models, credential: jwt({ role: "reader" }, { issuer: "https://evil.test" }), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT wrong audience", ...models, credential: jwt({ role: "reader" }, { audience: "someone-else" }), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT alg none", ...status, credential: () => bearer(mint.unsigned({ sub: "root", role: "admin" })), status: 401, code: "UNAUTHORIZED" },
    { name: "JWT HS256 signed with the public key", ...status, credential: async () => bearer(await mint.hmacWithPublicKey({ sub: "root", role: "admin" })), status: 401, code: "UNAUTHORIZED" },
    { name: "unknown /v1 path, no credentials", method: "GET", path: "/v1/nothing", credential: () => ({}), status: 401, code: "UNAUTHORIZED" },
    { name: "/metrics (metricsNeedAuth), no credentials", method: "GET", path: "/metrics", credential: () => ({}), status: 401, code: "UNAUTHORIZED" },
    { name: "reader ingesting", ...ingest, credential: () => bearer(keys.reader!), status: 403, code: "FORBIDDEN" },
    { name: "reader deleting", method: "DELETE", path: "/v1/documents/d1", credential: () => bearer(keys.reader!), status: 403, code: "FORBIDDEN" },
    { name: "writer reading status", ...status, credential: () => bearer(keys.writer!), status: 403, code: "FORBIDDEN" },
    { name: "writer listing keys", method: "GET", path: "/v1/keys", credential: () => bearer(keys.writer!), status: 403, code: "FORBIDDEN" },
    { name: "reader on /metrics", method: "GET", path: "/metrics", credential: () => bearer(keys.reader!), status: 403, code: "FORBIDDEN" },
    { name: "JWT without a role claim", ...models, credential: jwt({}), status: 403, code: "FORBIDDEN" },
    { name: "JWT reader making a key", method: "POST", path: "/v1/keys", body: { role: "admin" }, credential: jwt({ role: "reader" }), status: 403, code: "FORBIDDEN" },
    { name: "reader querying", ...query, credential: () => bearer(keys.reader!), status: 200 },
    { name: "reader listing models (X-API-Key)", ...models, credential: () => ({ "x-api-key": keys.reader! }), status: 200 },
    { name: "writer ingesting", ...ingest, credential: () => bearer(keys.writer!), status: 202 },
    { name: "writer querying", ...query, credential: () => bearer(keys.writer!), status: 200 },
    { name: "admin reading status", ...status, credential: () => bearer(keys.admin!), status: 200 },
    { name: "admin listing keys", method: "GET", path: "/v1/keys", credential: () => bearer(keys.admin!), status: 200 },
    { name: "admin on /metrics", method: "GET", path: "/metrics", credential: () => bearer(keys.admin!), status: 200 },
    { name: "JWT reader querying", ...query, credential: jwt({ role: "reader" }), status: 200 },
    { name: "JWT within clock tolerance (nbf +2 s)", ...models, credential: jwt({ role: "reader" }, { notBefore: "2s" }), status: 200 },
    { name: "JWT admin reading status", ...status, credential: jwt({ role: "admin" }), status: 200 },
    { name: "unknown /v1 path, reader", method: "GET", path: "/v1/nothing", credential: () => bearer(keys.reader!), status: 404, code: "NOT_FOUND" },
    { name: "/health, no credentials", method: "GET", path: "/health", credential: () => ({}), status: 200 },
    { name: "/ready, no credentials", method: "GET", path: "/ready", credential: () => ({}), status: 200 },
  ];

  for (const row of rows) {
    test(`http auth - ${row.name}: ${row.status}${row.code ? ` ${row.code}` : ""}`, async () => {
      const reply = await call(bridges[0]!.url, row, await row.credential());
      observed.push({ name: row.name, expected: `${row.status} ${row.code ?? ""}`.trim(), got: `${reply.status} ${reply.code ?? ""}`.trim() });
      assert.deepEqual(reply, { status: row.status, code: row.code });
    });
  }

  test("http auth - a revoked key is refused by both bridges, pushed by the bucket's watch", async () => {
    for (const b of bridges) assert.equal((await call(b.url, models, bearer(keys.revoked!))).status, 200);
    const revokedAt = Date.now();
    await store.revoke(ids.revoked!);
    for (const [i, b] of bridges.entries()) {
      await waitFor(`bridge ${i} refuses the revoked key`, async () => (await call(b.url, models, bearer(keys.revoked!))).status === 401, 5_000);
      const reply = await call(b.url, models, bearer(keys.revoked!));
      observed.push({ name: `revoked key, bridge ${i + 1} (in force after ${Date.now() - revokedAt} ms)`, expected: "401 UNAUTHORIZED", got: `${reply.status} ${reply.code}` });
      assert.deepEqual(reply, { status: 401, code: "UNAUTHORIZED" });
    }
  });

  test("http auth - an admin makes a key over /v1/keys that works on the other bridge, and revokes it there", async () => {
    const made = await request(`${bridges[0]!.url}/v1/keys`, { method: "POST", headers: { ...bearer(keys.admin!), "content-type": "application/json" }, body: JSON.stringify({ role: "writer", tier: "gold", name: "ci" }) });
    assert.equal(made.statusCode, 201);
    const body = (await made.body.json()) as { key: string; id: string; role: string; tier: string; digest?: string };
    assert.deepEqual([body.role, body.tier, body.digest], ["writer", "gold", undefined]);
    await waitFor("the other bridge knows the new key", async () => (await call(bridges[1]!.url, ingest, bearer(body.key))).status === 202, 5_000);
    const listed = await request(`${bridges[1]!.url}/v1/keys`, { headers: bearer(keys.admin!) });
    const text = await listed.body.text();
    assert.ok(text.includes(body.id) && !text.includes(body.key.slice(-43)) && !text.includes("digest"), "the list names ids, never secrets or digests");
    const revoked = await request(`${bridges[1]!.url}/v1/keys/${body.id}`, { method: "DELETE", headers: bearer(keys.admin!) });
    assert.equal(revoked.statusCode, 200);
    assert.ok(((await revoked.body.json()) as { revoked?: string }).revoked);
    await waitFor("the first bridge refuses it", async () => (await call(bridges[0]!.url, models, bearer(body.key))).status === 401, 5_000);
    assert.deepEqual(await call(bridges[0]!.url, { method: "DELETE", path: "/v1/keys/ffffffffffffffff" }, bearer(keys.admin!)), { status: 404, code: "NOT_FOUND" });
  });

  test("http auth - the audit holds every refusal of the matrix and every admission with its status, and no secret", async () => {
    const events: AuditEvent[] = [];
    await waitFor("the audit has every row", async () => {
      events.length = 0;
      for await (const e of audit.read({ sinceMs: 0 })) events.push(e);
      return events.length >= rows.length;
    });
    const denied = events.filter((e) => !e.allowed);
    const refusedRows = rows.filter((r) => r.status === 401 || r.status === 403);
    assert.equal(denied.filter((e) => e.status === 401 || e.status === 403).length >= refusedRows.length, true, `${denied.length} denied events`);
    const forbidden = denied.find((e) => e.code === "FORBIDDEN" && e.route === "/v1/status");
    assert.deepEqual([forbidden?.caller, forbidden?.role, forbidden?.method, forbidden?.ip], [`key:${ids.writer}`, "writer", "GET", "127.0.0.1"]);
    assert.match(forbidden?.trace ?? "", /^[0-9a-f]{32}$/);
    const admin = events.find((e) => e.kind === "admin" && e.caller === `key:${ids.admin}`);
    assert.equal(admin?.status, 200, "an admin operation is audited with its answer");
    assert.ok(events.some((e) => e.kind === "key" && e.key?.op === "create"), "a key made over /v1/keys");
    const text = JSON.stringify(events);
    for (const key of Object.values(keys)) assert.equal(text.includes(key.slice(-43)), false, "a key's secret is in the audit");
    assert.equal(/eyJ[A-Za-z0-9_-]+\.eyJ/.test(text), false, "a JWT is in the audit");
    assert.equal(audit.lost, 0);
  });

  test("http auth - a record copied under another id, or malformed, lets no key in", async () => {
    const kv = await openBucket(connections[0]!, `${NAMESPACE}_api_keys`);
    const reader = JSON.parse((await kv.get(ids.reader!))!.string()) as { digest: string };
    const forgedId = "aaaaaaaaaaaaaaaa";
    await kv.put(forgedId, JSON.stringify({ ...reader, role: "admin" }));
    await kv.put("bbbbbbbbbbbbbbbb", "{not json");
    const secret = keys.reader!.slice(-43);
    // The watch has the forged entry once a later write is seen.
    const marker = await store.create({ role: "reader" });
    await waitFor("the bridge knows the marker key", async () => (await call(bridges[0]!.url, models, bearer(marker.key))).status === 200);
    assert.deepEqual(await call(bridges[0]!.url, status, bearer(`colmena_${forgedId}_${secret}`)), { status: 401, code: "UNAUTHORIZED" });
    assert.deepEqual(await call(bridges[0]!.url, models, bearer(keys.reader!)), { status: 200, code: undefined }, "the real key still works");
    assert.ok((await store.list()).every((k) => k.id !== "bbbbbbbbbbbbbbbb"), "a malformed record is not listed");
  });

  test("http auth - no key, secret or token ever reaches the log", () => {
    const all = logged.join("");
    assert.ok(all.length > 0, "the bridges logged their requests");
    for (const key of Object.values(keys)) assert.equal(all.includes(key.slice(-43)), false, "a key's secret is in the log");
    assert.equal(/eyJ[A-Za-z0-9_-]+\.eyJ/.test(all), false, "a JWT is in the log");
  });
});
