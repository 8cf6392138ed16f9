import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { Registry } from "prom-client";
import { collectGpuMetrics, parseNvidiaSmi } from "../../cli/gpu-metrics.js";

// nvidia-smi's `--format=csv,noheader,nounits` lines, as it prints them (a device that does not report utilisation says [N/A]).
const FIXTURE = fileURLToPath(new URL("../../../test/observe/fixtures/nvidia-smi.csv", import.meta.url));

describe("gpu metrics", () => {
  let dir: string;
  let csv: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-gpu-"));
    csv = await readFile(FIXTURE, "utf8");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** An executable that answers as nvidia-smi would: the device figures, or silence for a while. */
  const tool = async (name: string, body: string) => {
    const path = join(dir, name);
    await writeFile(path, `#!/bin/sh\n${body}\n`);
    await chmod(path, 0o755);
    return path;
  };

  test("gpu metrics - nvidia-smi's CSV: utilisation as a ratio, memory in bytes, N/A left out", () => {
    const r = parseNvidiaSmi(csv);
    assert.equal(r.length, 3);
    assert.deepEqual(r[0], { index: "0", name: "NVIDIA H100 80GB HBM3", utilization: 0.87, usedBytes: 61245 * 1024 * 1024, totalBytes: 81559 * 1024 * 1024 });
    assert.equal(r[2]!.utilization, undefined);
    assert.equal(r[2]!.usedBytes, 1024 * 1024 * 1024);
    assert.deepEqual(parseNvidiaSmi("No devices were found\n"), []);
    assert.deepEqual(parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n"), []);
  });

  test("gpu metrics - with no nvidia-smi there is no family and no error", async () => {
    const registry = new Registry();
    assert.equal(await collectGpuMetrics({ registry, command: join(dir, "no-such-nvidia-smi") }), false);
    // This machine's own PATH: no GPU here, so nvidia-smi is absent or finds no device.
    if (spawnSync("nvidia-smi", ["-L"]).status !== 0) assert.equal(await collectGpuMetrics({ registry }), false);
    assert.doesNotMatch(await registry.metrics(), /colmena_gpu/);
  });

  test("gpu metrics - a tool that hangs past the timeout, or finds no device, registers nothing", async () => {
    const registry = new Registry();
    assert.equal(await collectGpuMetrics({ registry, command: await tool("hangs", "sleep 5"), timeoutMs: 200 }), false);
    assert.equal(await collectGpuMetrics({ registry, command: await tool("none", 'echo "No devices were found"') }), false);
    assert.doesNotMatch(await registry.metrics(), /colmena_gpu/);
  });

  test("gpu metrics - each device's gauges, asked at scrape time and kept for cacheMs", async () => {
    const registry = new Registry();
    const counter = join(dir, "asked");
    const smi = await tool("nvidia-smi", `echo x >> ${counter}\ncat ${FIXTURE}`);
    assert.equal(await collectGpuMetrics({ registry, command: smi, cacheMs: 60_000 }), true);
    const text = await registry.metrics();
    assert.match(text, /^# TYPE colmena_gpu_utilization_ratio gauge$/m);
    assert.match(text, /^colmena_gpu_utilization_ratio\{gpu="0",name="NVIDIA H100 80GB HBM3"\} 0\.87$/m);
    assert.match(text, /^colmena_gpu_memory_used_bytes\{gpu="1",name="NVIDIA H100 80GB HBM3"\} 4194304$/m);
    assert.match(text, /^colmena_gpu_memory_total_bytes\{gpu="2",name="Tesla T4"\} 16106127360$/m);
    assert.doesNotMatch(text, /colmena_gpu_utilization_ratio\{gpu="2"/);
    await registry.metrics();
    assert.equal((await readFile(counter, "utf8")).trim().split("\n").length, 1, "scrapes within cacheMs reuse the answer");
    // Past it, a scrape asks again; a tool that stopped answering leaves that scrape without GPU series, and fails nothing.
    const registry2 = new Registry();
    const flaky = await tool("flaky", `if [ -e ${join(dir, "broken")} ]; then exit 9; fi\ncat ${FIXTURE}`);
    assert.equal(await collectGpuMetrics({ registry: registry2, command: flaky, cacheMs: 0 }), true);
    await writeFile(join(dir, "broken"), "");
    assert.doesNotMatch(await registry2.metrics(), /^colmena_gpu_memory_used_bytes\{/m);
  });
});
