import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { bypassing, cycles, importsOf, SOURCE_FOLDERS } from "../helpers/import-graph.js";

// The compiled test runs from dist/test/architecture; the sources are three levels up from dist.
const root = fileURLToPath(new URL("../../../", import.meta.url));
const imports = importsOf(root);

test("architecture - the source tree has imports to check", () => {
  assert.ok(imports.length > 100, `found only ${imports.length} imports under ${root}`);
});

test("architecture - no import cycle among the source files", () => {
  assert.deepEqual(cycles(imports), []);
});

test("architecture - another top-level folder is entered only through its index.ts", () => {
  assert.deepEqual(
    bypassing(imports).map((i) => `${i.from} -> ${i.to}`),
    [],
  );
});

test("architecture - the runtime's contract imports no implementation", () => {
  const allowed = (to: string) => to.startsWith("runtime/contract/") || to.startsWith("runtime/observe/") || !to.startsWith("runtime/");
  assert.deepEqual(
    imports.filter((i) => i.from.startsWith("runtime/contract/") && !allowed(i.to)).map((i) => `${i.from} -> ${i.to}`),
    [],
  );
});

test("architecture - layers import downward only", () => {
  // DESIGN.md's table: each folder may use those listed after it, never one before it.
  const order = ["cli", "bridge", "loadtest", "actors", "runtime", "supervisors", "nats"];
  const below: Record<string, string[]> = { loadtest: ["supervisors"], nats: [], supervisors: [] };
  const upward = imports.filter((i) => {
    const from = i.from.split("/")[0]!;
    const to = i.to.split("/")[0]!;
    if (from === to) return false;
    if (below[from] !== undefined) return !below[from]!.includes(to);
    return order.indexOf(to) < order.indexOf(from);
  });
  assert.deepEqual(
    upward.map((i) => `${i.from} -> ${i.to}`),
    [],
  );
});

test("architecture - only the CLI's bootstrap uses the OpenTelemetry SDK; everything else the API alone", () => {
  const OTEL = /^\s*(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["'](@opentelemetry\/[^"']+)["']/gm;
  const found: string[] = [];
  for (const folder of SOURCE_FOLDERS) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".ts")) continue;
      const file = join(entry.parentPath, entry.name);
      for (const m of readFileSync(file, "utf8").matchAll(OTEL)) found.push(`${file.slice(root.length)} -> ${m[1]}`);
    }
  }
  assert.ok(found.some((f) => f.endsWith("-> @opentelemetry/api")), "the runtime uses the API");
  assert.deepEqual(found.filter((f) => !f.endsWith("-> @opentelemetry/api") && !f.startsWith("cli/telemetry.ts")), []);
});

test("architecture - the checks see a cycle and a bypass when there is one", () => {
  const made = [
    { from: "runtime/a.ts", to: "runtime/b.ts", typeOnly: true },
    { from: "runtime/b.ts", to: "runtime/a.ts", typeOnly: false },
    { from: "actors/x.ts", to: "runtime/a.ts", typeOnly: false },
    { from: "actors/y.ts", to: "runtime/index.ts", typeOnly: false },
  ];
  assert.deepEqual(cycles(made), [["runtime/a.ts", "runtime/b.ts"]]);
  assert.deepEqual(bypassing(made), [made[2]]);
});
