import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { corpusSource, generatedSource, seeded, Workload, type WorkloadOptions } from "../../loadtest/index.js";

const options = (o: Partial<WorkloadOptions> = {}): WorkloadOptions => ({ seed: 1, repeatRatio: 0, hotSet: 20, sessions: 0, idPrefix: "lt", ...o });

describe("loadtest workload", () => {
  test("loadtest workload - the same seed gives the same requests", () => {
    const a = new Workload(generatedSource(seeded(3)), options({ seed: 3, repeatRatio: 0.3 }));
    const b = new Workload(generatedSource(seeded(3)), options({ seed: 3, repeatRatio: 0.3 }));
    const qa = Array.from({ length: 50 }, () => a.query().question);
    assert.deepEqual(Array.from({ length: 50 }, () => b.query().question), qa);
    assert.deepEqual(a.ingest(3), b.ingest(3));
  });

  test("loadtest workload - fresh questions never repeat; the repeat ratio draws from the hot set", () => {
    const fresh = new Workload(generatedSource(seeded(1)), options());
    const asked = Array.from({ length: 3_000 }, () => fresh.query().question);
    assert.equal(new Set(asked).size, asked.length);

    const w = new Workload(generatedSource(seeded(1)), options({ repeatRatio: 0.4, hotSet: 10 }));
    const qs = Array.from({ length: 2_000 }, () => w.query().question);
    const hot = new Set([...new Set(qs)].slice(0, 10)); // the first ten distinct questions fill the hot set
    const repeats = qs.filter((q, i) => qs.indexOf(q) !== i);
    assert.ok(repeats.length > 0.35 * 2_000 && repeats.length < 0.45 * 2_000, `${repeats.length} repeats`);
    assert.ok(repeats.every((q) => hot.has(q)));
  });

  test("loadtest workload - sessions, top_k and ingest ids follow the options", () => {
    const w = new Workload(generatedSource(seeded(1)), options({ sessions: 3, topK: 4, idPrefix: "run9" }));
    const sessions = new Set(Array.from({ length: 100 }, () => w.query().session_id));
    assert.deepEqual([...sessions].sort(), ["run9-session-0", "run9-session-1", "run9-session-2"]);
    assert.equal(w.query().top_k, 4);
    assert.deepEqual(w.ingest(2).documents.map((d) => d.id), ["run9-doc-0", "run9-doc-1"]);
    assert.deepEqual(w.ingestedIds, ["run9-doc-0", "run9-doc-1"]);
  });

  test("loadtest workload - a corpus folder gives its files as documents and its headings and sentences as questions", async () => {
    const dir = await mkdtemp(join(tmpdir(), "colmena-loadtest-corpus-"));
    try {
      await mkdir(join(dir, "sub"));
      await writeFile(join(dir, "streams.md"), "# Streams\n\nA stream stores messages published on its subjects for later replay.\n\n```sh\nnats stream add\n```\n\n## How do I create a stream?\n\nRun the add command with a name and the subjects it should capture.\n");
      await writeFile(join(dir, "sub", "kv.txt"), "Key value buckets keep the latest value of each key with history.");
      await writeFile(join(dir, "ignored.json"), "{}");
      const source = await corpusSource(dir);
      assert.deepEqual(source.documents.map((d) => d.id).sort(), ["streams-md", "sub-kv-txt"]);
      assert.equal(source.documents.find((d) => d.id === "streams-md")!.title, "Streams");
      assert.ok(!source.documents.some((d) => d.text.includes("nats stream add")), "code blocks are not prose");
      const r = seeded(1);
      const questions = new Set(Array.from({ length: 200 }, () => source.question(r)));
      assert.deepEqual([...questions].sort(), [
        "A stream stores messages published on its subjects for later replay.",
        "How do I create a stream?",
        "Key value buckets keep the latest value of each key with history.",
        "Run the add command with a name and the subjects it should capture.",
        "What is Streams?",
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
