import assert from "node:assert/strict";
import { test } from "node:test";
import { documentSources, snippet } from "../../actors/pipeline/sources.js";
import type { FusedHit } from "../../actors/query/index.js";
import { groupByDocument } from "../../actors/query/index.js";

const hit = (docId: string, ordinal: number, score: number, text: string, metadata: Record<string, string> = {}): FusedHit => ({
  id: `${docId}#${ordinal}`,
  docId,
  ordinal,
  score,
  text,
  metadata,
  ranks: {},
});

test("pipeline - one source per document with title, path, heading, snippet and a score relative to the first", () => {
  const hits = [
    hit("tls", 3, 0.04, "## Certificates\n\nPut `cert_file` in the tls map.", { title: "Enabling TLS", source: "securing/tls.md", heading: "Enabling TLS > Certificates" }),
    hit("faq", 0, 0.02, "Questions people ask about TLS.", { source: "faq.md" }),
    hit("tls", 1, 0.01, "# Enabling TLS\n\nThe server encrypts connections.", { title: "Enabling TLS", source: "securing/tls.md" }),
  ];
  const { sources, passages } = documentSources("How do I configure TLS certificates?", groupByDocument(hits, 5));
  assert.deepEqual(
    sources.map((s) => [s.rank, s.docId, s.title, s.path, s.heading, s.chunkId]),
    [
      [1, "tls", "Enabling TLS", "securing/tls.md", "Enabling TLS > Certificates", "tls#3"],
      [2, "faq", "faq.md", "faq.md", undefined, "faq#0"],
    ],
  );
  assert.equal(sources[0]!.score, 1);
  assert.ok(sources[1]!.score > 0 && sources[1]!.score < 1);
  assert.equal(sources[0]!.snippet, "Put cert_file in the tls map.", "no heading, no code marks");
  assert.equal(passages[0]!.text, "# Enabling TLS\n\nThe server encrypts connections.\n\n## Certificates\n\nPut `cert_file` in the tls map.", "best chunks in document order");
  assert.equal(passages.length, sources.length);
});

test("pipeline - the first three documents give the answer their three best chunks, the rest their best one", () => {
  const hits = Array.from({ length: 7 }, (_, d) => [0, 1, 2, 3].map((o) => hit(`doc${d}`, o, 1 / (1 + d * 4 + o), `doc${d} part ${o}`))).flat();
  const { passages } = documentSources("parts", groupByDocument(hits, 7));
  assert.deepEqual(
    passages.map((p) => p.text.split("\n\n").length),
    [3, 3, 3, 1, 1, 1, 1],
  );
  assert.equal(passages[6]!.text, "doc6 part 0");
});

test("pipeline - a snippet is a window around where the question's words gather", () => {
  const text = `${"filler words here ".repeat(40)}the lame duck mode drains clients ${"more filler text ".repeat(40)}`;
  const s = snippet(text, new Set(["lame", "duck"]));
  assert.ok(s.includes("lame duck mode"), s);
  assert.ok(s.length <= 250 && s.startsWith("…") && s.endsWith("…"), s);
});
