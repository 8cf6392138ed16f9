import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePort } from "../../nats/index.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, "127.0.0.1", () => resolve(!socket.destroy()));
    socket.once("error", () => resolve(false));
  });

test("colmena up - Ctrl-C in a terminal (SIGINT to the whole process group) stops it cleanly, its nats-server last", async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-signal-"));
  t.after(() => rm(dataDir, { recursive: true, force: true }));
  const natsPort = await freePort();
  // A process group of its own, as a shell gives a foreground job.
  const child = spawn(process.execPath, [main, "up", "--port", "0", "--nats-port", String(natsPort), "--data-dir", dataDir, "--log-level", "warn"], { stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = once(child, "exit") as Promise<[number | null]>;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => /HTTP:\s+\S+/.test(out) && resolve());
    void exited.then(() => reject(new Error(`colmena up exited before it was ready:\n${out}`)));
  });
  const httpUrl = /HTTP:\s+(\S+)/.exec(out)![1]!;
  const res = await fetch(`${httpUrl}/v1/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ question: "What is NATS?" }) });
  assert.equal(res.status, 200);

  process.kill(-child.pid!, "SIGINT");
  const [code] = await exited;
  assert.equal(code, 0);
  const complaints = out.split("\n").filter((line) => /"level":(40|50|60)/.test(line));
  assert.deepEqual(complaints, [], "no warning or error while stopping: nats-server was still there for the last writes");
  assert.equal(await accepts(natsPort), false, "and it is stopped with its parent");
});
