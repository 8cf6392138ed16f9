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
  const keys = (...args: string[]) => runColmena(["keys", ...args, "--nats", up.natsUrl, "--json"]);
  const get = (base: string, path: string, key: string) => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${key}` } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-up-auth-"));
    const config = join(dir, "config.json");
    await writeFile(config, JSON.stringify({ http: { auth: { mode: "keys" }, rateLimit: { tiers: { default: { requestsPerMinute: TIER_LIMIT }, ops: { requestsPerMinute: 100_000 } } } } }));
    up = await startColmenaUp(["--config", config]);
    second = await startColmenaNode(["--roles", "bridge", "--nats", up.natsUrl, "--config", config]);
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
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /http\.host.*no authentication.*--insecure/);
  });

  test("colmena keys - the first admin key comes from NATS; the bridges know it at once, /v1 refuses no key", async () => {
    assert.equal((await fetch(`${up.httpUrl}/v1/status`)).status, 401);
    assert.equal((await get(second.httpUrl, "/v1/keys", admin)).status, 200);
    const listed = await keys("list");
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout.includes(admin.slice(-43)), false, "the list holds no secret");
    assert.match(listed.stdout, /"role": "admin"/);
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
});
