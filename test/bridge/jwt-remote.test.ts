import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { request } from "undici";
import { JwtOptionsSchema } from "../../bridge/auth/auth-options.js";
import { Authenticator } from "../../bridge/auth/authenticator.js";
import { JwtVerifier } from "../../bridge/auth/jwt-verifier.js";
import { systemClock } from "../../runtime/index.js";
import { AUDIENCE, ISSUER, tokenMint, type TokenMint } from "./auth-fixtures.js";
import { startBridge, type TestBridge } from "./http-harness.js";

describe("http auth - a JWKS fetched from a URL", () => {
  let dir: string;
  let mint: TokenMint;
  let jwksServer: Server;
  let fetches = 0;
  const bridges: TestBridge[] = [];
  const start = async (jwks: string) => {
    const jwt = await JwtVerifier.create(JwtOptionsSchema.parse({ jwks, issuer: ISSUER, audience: AUDIENCE }));
    const bridge = await startBridge({ auth: { mode: "jwt", jwt: { jwks, issuer: ISSUER, audience: AUDIENCE } }, authenticator: new Authenticator({ jwt, clock: systemClock }) });
    bridges.push(bridge);
    return bridge;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-jwks-"));
    mint = await tokenMint(join(dir, "jwks.json"));
    const body = await readFile(mint.jwksFile);
    jwksServer = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
  });

  after(async () => {
    for (const b of bridges) await b.close();
    jwksServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("http auth - tokens verify against the fetched JWKS, which is fetched once and cached", async () => {
    const bridge = await start(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`);
    for (let i = 0; i < 3; i++) {
      const res = await request(`${bridge.url}/v1/models`, { headers: { authorization: `Bearer ${await mint.sign({ sub: `u${i}`, role: "reader" })}` } });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
    assert.equal(fetches, 1);
  });

  test("http auth - a JWKS URL that does not answer is 503 UNAVAILABLE with Retry-After, not a verdict on the token", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const bridge = await start(`http://127.0.0.1:${port}/jwks.json`);
    const res = await request(`${bridge.url}/v1/models`, { headers: { authorization: `Bearer ${await mint.sign({ sub: "u", role: "reader" })}` } });
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers["retry-after"], "1");
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, "UNAVAILABLE");
  });

  test("http auth - a JWKS file holding a symmetric key stops start-up", async () => {
    const file = join(dir, "oct.json");
    await writeFile(file, JSON.stringify({ keys: [{ kty: "oct", k: "c2VjcmV0", alg: "HS256" }] }));
    await assert.rejects(JwtVerifier.create(JwtOptionsSchema.parse({ jwks: file, issuer: ISSUER, audience: AUDIENCE })), /symmetric/);
  });
});
