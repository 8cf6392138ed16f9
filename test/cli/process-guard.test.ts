import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { waitFor } from "../helpers/wait.js";

const script = fileURLToPath(new URL("./fixtures/faulty-process.js", import.meta.url));

test("process guard - unhandled rejections and uncaught exceptions are recorded, and the process stays up", async () => {
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let log = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (log += d));
  const exited = once(child, "exit");
  try {
    await waitFor("three faults recorded", () => out.split("\n").filter((l) => l.startsWith("fault ")).length === 3 || child.exitCode !== null, 5_000);
    assert.match(out, /fault unhandledRejection: an early rejection, before any sink/);
    assert.match(out, /fault unhandledRejection: a rejection nobody handled/);
    assert.match(out, /fault uncaughtException: an exception in a timer/);
    assert.equal(child.exitCode, null, "still running");
    assert.equal(log.split("\n").filter((l) => l.includes('"level":60')).length, 3, "each one logged as fatal");
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
  assert.equal(child.exitCode, 0);
});
