import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runColmena, startColmenaNode, startColmenaUp, type ColmenaProcess } from "../helpers/colmena-process.js";
import { waitFor } from "../helpers/wait.js";

const TIER_LIMIT = 20;

describe("colmena up - keys from the CLI, two bridge nodes sharing one rate limit", () => {
  let dir: string;
  let up: ColmenaProcess;
  let second: ColmenaProcess;
  let admin: string;
  // No --creds: the command finds the node user's creds in the up's data directory, as on the machine that runs it.
  const keys = (...args: string[]) => runColmena(["keys", ...args, "--nats", up.natsUrl, "--data-dir", up.dataDir, "--json"]);
  const get = (base: string, path: string, key: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-up-auth-"));
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ http: { auth: { mode: "keys" }, rateLimit: { tiers: { default: { requestsPerMinute: TIER_LIMIT }, ops: { requestsPerMinute: 100_000 } } } } }));
    up = await startColmenaUp(["--config", config]);
    second = await startColmenaNode(["--roles", "bridge", "--nats", up.natsUrl, "--creds", up.creds!.node, "--config", config]);
    const made = await keys("create", "--role", "admin", "--tier", "ops", "--name", "first admin");
    assert.equal(made.code, 0, made.stderr);
    admin = (JSON.parse(made.stdout) as { key: string }).key;
    // Each bridge's share follows its membership: wait until both see two bridges.
    for (const base of [up.httpUrl, second.httpUrl]) {
      await waitFor(`${base} sees both bridges`, async () => {
        const status = (await (await get(base, "/v1/status", admin)).json()) as { nodes?: { roles: string[] }[] };
        return (status.nodes ?? []).filter((n) => n.roles.includes("bridge")).length === 2;
      });
    }
  });

  after(async () => {
    await second?.stop();
    await up?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test("colmena up - an open bridge beyond loopback refuses to start without --insecure", async () => {
    const refused = await runColmena(["up", "--host", "0.0.0.0", "--data-dir", join(dir, "open")]);
    assert.equal(refused.code, 2, "a config mistake: exit code 2");
    assert.match(refused.stderr, /http\.host.*no authentication.*--insecure/);
  });

  test("colmena keys - the first admin key comes from NATS; the bridges know it at once, /v1 refuses no key", async () => {
    assert.equal((await fetch(`${up.httpUrl}/v1/status`)).status, 401);
    assert.equal((await get(second.httpUrl, "/v1/keys", admin)).status, 200);
    const listed = await keys("list");
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.includes(admin.slice(-43)), false, "the list holds no secret");
    assert.match(listed.stdout, /"role": "admin"/);
    for (const [args, message] of [
      [["--role", "reader", "--tier", "a b"], /INVALID: bad key: tier/],
      [["--role", "reader", "--expires", "soon"], /INVALID: expires "soon" is not a date/],
      [["--role", "root"], /Allowed choices are reader, writer, admin/],
    ] as const) {
      const bad = await keys("create", ...args);
      assert.equal(bad.code, 1, args.join(" "));
      assert.match(bad.stderr, message);
    }
  });

  test("colmena up - a client spread over both bridges gets at most 1.1 × its tier's limit", async () => {
    const made = await keys("create", "--role", "reader");
    const reader = (JSON.parse(made.stdout) as { key: string }).key;
    let allowed = 0;
    let limited: Response | undefined;
    for (let i = 0; i < 3 * TIER_LIMIT; i++) {
      const res = await get(i % 2 === 0 ? up.httpUrl : second.httpUrl, "/v1/models", reader);
      await res.arrayBuffer();
      if (res.status === 200) allowed++;
      else limited ??= res;
    }
    console.log(`rate limit across two bridges: ${allowed} of ${3 * TIER_LIMIT} allowed, tier limit ${TIER_LIMIT}/min`);
    assert.ok(allowed <= 1.1 * TIER_LIMIT, `${allowed} allowed`);
    assert.ok(allowed >= TIER_LIMIT / 2, `${allowed} allowed: at least one node's share`);
    assert.equal(limited?.status, 429);
    assert.ok(Number(limited!.headers.get("retry-after")) >= 1);
    assert.equal(limited!.headers.get("ratelimit-policy"), `"default";q=${TIER_LIMIT};w=60`);
    assert.match(limited!.headers.get("ratelimit") ?? "", /^"default";r=0;t=\d+$/);
  });

  test("colmena keys revoke - the second bridge refuses the key", async () => {
    const made = await keys("create", "--role", "writer", "--name", "short-lived");
    const { key, id } = JSON.parse(made.stdout) as { key: string; id: string };
    await waitFor("the second bridge knows the key", async () => (await get(second.httpUrl, "/v1/models", key)).status === 200);
    const revoked = await keys("revoke", id);
    assert.equal(revoked.code, 0, revoked.stderr);
    const at = Date.now();
    await waitFor("the second bridge refuses the revoked key", async () => (await get(second.httpUrl, "/v1/models", key)).status === 401, 5_000);
    console.log(`revocation in force on the second bridge ${Date.now() - at} ms after colmena keys revoke returned`);
    const unknown = await keys("revoke", "ffffffffffffffff");
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /NOT_FOUND/);
  });

  test("colmena audit tail - refusals, admin operations and key changes from both bridges and the CLI, never a secret", async () => {
    const tail = (...args: string[]) => runColmena(["audit", "tail", ...args, "--nats", up.natsUrl, "--data-dir", up.dataDir, "--json"]);
    const events = (text: string) => text.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as { kind: string; allowed: boolean; status?: number; code?: string; route?: string; node?: string; caller?: string; key?: { op: string } });
    let denied: ReturnType<typeof events> = [];
    await waitFor("the denied events are stored", async () => {
      const run = await tail("--since", "10m", "--denied");
      assert.equal(run.code, 0, run.stderr);
      denied = events(run.stdout);
      return denied.some((e) => e.code === "RATE_LIMITED") && denied.some((e) => e.status === 401 && e.route === "/v1/status");
    });
    assert.ok(denied.every((e) => !e.allowed));
    assert.equal(new Set(denied.filter((e) => e.code === "RATE_LIMITED").map((e) => e.node)).size, 2, "both bridges audit");
    const all = await tail("--since", "10m");
    const everything = events(all.stdout);
    assert.ok(everything.some((e) => e.kind === "key" && e.key?.op === "revoke" && e.caller?.startsWith("cli:")), "a revocation from the CLI");
    assert.ok(everything.some((e) => e.kind === "admin" && e.allowed && e.route === "/v1/status" && e.status === 200), "an admin operation");
    assert.equal(all.stdout.includes(admin.slice(-43)), false, "no secret in the audit");
    const human = await runColmena(["audit", "tail", "--since", "10m", "--denied", "--nats", up.natsUrl, "--data-dir", up.dataDir]);
    assert.match(human.stdout, /DENIED .* GET \/v1\/status → 401 UNAUTHORIZED/);
    const bad = await tail("--since", "yesterday-ish");
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID: --since/);
  });
});
