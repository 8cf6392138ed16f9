import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import type { Report } from "../../loadtest/index.js";

const cli = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

describe("loadtest steady", () => {
  test("loadtest steady - a short run against a spawned colmena up answers every question, writes its reports and exits by its verdict", async () => {
    const out = await mkdtemp(join(tmpdir(), "colmena-loadtest-smoke-"));
    try {
      const child = spawn(process.execPath, [cli, "loadtest", "steady", "--spawn", "--rate", "5", "--duration", "3s", "--corpus", "generated", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
      let output = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
      const [code] = (await once(child, "exit")) as [number | null];
      assert.match(output, /ingesting 200 documents from generated/);
      // Correctness only: every question answered. The speed thresholds (achieved rate, p99) are the
      // run's verdict on this machine, printed and reported, and not this test's to pass.
      assert.match(output, /^PASS {2}errors \(anything but 2xx\): 0/m);

      const files = (await readdir(out)).sort();
      assert.equal(files.length, 3);
      assert.deepEqual(files.map((f) => f.split(".").pop()), ["json", "md", "svg"]);
      const report = JSON.parse(await readFile(join(out, files[0]!), "utf8")) as Report;
      assert.equal(code, report.passed ? 0 : 1, output);
      for (const t of report.thresholds) assert.match(output, new RegExp(`^${t.pass ? "PASS" : "FAIL"} {2}${t.name.replace(/[()/]/g, "\\$&")}`, "m"), t.name);
      assert.equal(report.target.spawned, true);
      assert.equal(report.phases[0]!.scheduled, 15);
      assert.equal(report.phases[0]!.ok, 15);
      assert.ok(report.memory.summary.samples >= 1, "the server's memory was polled");
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
