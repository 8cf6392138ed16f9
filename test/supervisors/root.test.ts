import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { ManualClock, rootSupervisor } from "../../supervisors/index.js";
import { fixedBackoff, settle, testChild } from "./helpers.js";

test("root - escalation calls exit(1) after stopping the children", async () => {
  const log: string[] = [];
  const codes: number[] = [];
  const a = testChild("a", log);
  const root = rootSupervisor(
    { name: "root", clock: new ManualClock(), backoff: fixedBackoff, decider: () => "escalate", exit: (code) => codes.push(code) },
    [a.spec],
  );
  const errors: unknown[][] = [];
  const consoleError = console.error;
  console.error = (...args: unknown[]) => void errors.push(args);
  try {
    await root.start();
    a.fail(new Error("fatal"));
    await settle();
  } finally {
    console.error = consoleError;
  }
  assert.deepEqual(codes, [1]);
  assert.deepEqual(log, ["start a", "stop a"]);
  assert.equal(root.state, "escalated");
  assert.match(String(errors[0]?.[0]), /root supervisor "root" escalated/);
});

test("root - escalation ends a real process with exit code 1", async () => {
  const script = fileURLToPath(new URL("./fixtures/failing-root.js", import.meta.url));
  const child = spawn(process.execPath, [script], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  assert.equal(code, 1, stderr);
  assert.match(stderr, /root supervisor "fixture-root" escalated/);
  assert.match(stderr, /doomed cannot start/);
});
