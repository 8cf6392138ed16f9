import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { bypassing, cycles, importsOf } from "../helpers/import-graph.js";

// The compiled test runs from dist/test/llm; the sources it reads are the repository's.
const root = fileURLToPath(new URL("../../../", import.meta.url));

test("llm - actors/llm reaches other folders only through their index.ts, and its files import no cycle", () => {
  const llm = importsOf(root, ["actors"]).filter((i) => i.from.startsWith("actors/llm/"));
  assert.ok(llm.length > 0, "the sources were found");
  assert.deepEqual(bypassing(llm), []);
  assert.deepEqual(cycles(llm), []);
});
