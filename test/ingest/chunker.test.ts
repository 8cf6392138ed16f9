import { test } from "node:test";
import assert from "node:assert/strict";
import { chunk } from "../../actors/ingest/index.js";
import type { TextPiece } from "../../actors/ingest/index.js";
import { isColmenaError } from "../../runtime/index.js";

/** Prose of uniquely numbered words: sentences of 3..9 words, paragraphs of 1..5 sentences. */
function prose(words: number, first = 0): string {
  let out = "";
  for (let i = first, inSentence = 0, inParagraph = 0; i < first + words; i++) {
    out += `w${i}`;
    inSentence++;
    if (inSentence === 3 + (i % 7)) {
      out += ".";
      inSentence = 0;
      inParagraph++;
      out += inParagraph === 1 + (i % 5) ? ((inParagraph = 0), "\n\n") : " ";
    } else out += " ";
  }
  return out.trim();
}

const FENCE_LINE = /^(`{3,}|~{3,})[^\n]*$/;

/** The piece as a slice of the document: without the fence lines the chunker gave back to a piece cut inside a code block. */
function sliceOf(doc: string, text: string, from: number): string | undefined {
  const lines = text.split("\n");
  const first = FENCE_LINE.test(lines[0]!) ? [lines.slice(1)] : [];
  const candidates = [lines, ...first, ...[lines, ...first].filter((l) => l.length > 1 && FENCE_LINE.test(l.at(-1)!)).map((l) => l.slice(0, -1))];
  return candidates.map((l) => l.join("\n")).find((t) => doc.indexOf(t, from) >= 0);
}

/** Where each piece lies in the document; pieces are substrings (but for fences given back), found in order. */
function offsets(doc: string, pieces: TextPiece[]): Array<[number, number]> {
  let from = 0;
  return pieces.map((p) => {
    const text = sliceOf(doc, p.text, from);
    assert.ok(text !== undefined, `piece ${p.ordinal} is a substring of the document, in order`);
    const at = doc.indexOf(text, from);
    from = at + 1;
    return [at, at + text.length];
  });
}

function assertCovers(doc: string, pieces: TextPiece[]): void {
  const ranges = offsets(doc, pieces);
  for (let i = 0; i < doc.length; i++) {
    if (/\S/.test(doc[i] ?? "")) assert.ok(ranges.some(([a, b]) => a <= i && i < b), `character ${i} is in a piece`);
  }
}

const MD = `Preface without a heading.

# Guide

## Install

${prose(120, 0)}

\`\`\`sh
# not a heading, a shell comment
npm install colmena
\`\`\`

## Use

${prose(30, 1000)}

### Flags
${prose(10, 2000)}
`;

test("ingest - a heading stays with its section and the heading path rides on every piece", () => {
  const pieces = chunk(MD, { maxChars: 200, overlapChars: 40, markdown: true });
  assert.deepEqual(pieces[0], { text: "Preface without a heading.", ordinal: 0, title: "Guide" }, "the first level-1 heading titles every piece");
  const install = pieces.filter((p) => p.heading === "Guide > Install");
  assert.ok(install.length > 3);
  assert.ok(install[0]?.text.startsWith("# Guide\n\n## Install\n\nw0 "), "an empty parent section folds into its child");
  assert.ok(install.some((p) => p.text.includes("# not a heading")), "code comments are not headings");
  const use = pieces.filter((p) => p.heading === "Guide > Use");
  assert.ok(use[0]?.text.startsWith("## Use\n\nw1000 "));
  assert.ok(use.every((p) => !p.text.includes("w2000")), "a section never shares a piece with the next");
  const flags = pieces.filter((p) => p.heading === "Guide > Use > Flags");
  assert.deepEqual(flags.map((p) => p.text), [`### Flags\n${prose(10, 2000)}`]);
  assertCovers(MD, pieces);
});

test("ingest - pieces never exceed maxChars", () => {
  const long = `${prose(400)}\n\n${"x".repeat(1000)} ${prose(50, 5000)}\n\n${"😀".repeat(300)}`;
  for (const maxChars of [1, 2, 17, 64, 200, 1000]) {
    for (const markdown of [false, true]) {
      const pieces = chunk(long, { maxChars, overlapChars: Math.floor(maxChars / 4), markdown });
      assert.ok(pieces.every((p) => p.text.length <= maxChars && p.text.length > 0), `maxChars ${maxChars}`);
      if (maxChars > 1) assert.ok(pieces.every((p) => !/^[\udc00-\udfff]|[\ud800-\udbff]$/.test(p.text)), "no split surrogate pairs");
    }
  }
});

test("ingest - consecutive pieces overlap and together cover the text", () => {
  const doc = prose(600);
  const pieces = chunk(doc, { maxChars: 300, overlapChars: 60 });
  assert.ok(pieces.length > 5);
  for (let i = 1; i < pieces.length; i++) {
    const head = pieces[i]?.text.split(" ")[0] ?? "";
    const tail = pieces[i - 1]?.text.slice(-60 - head.length) ?? "";
    assert.ok(tail.includes(head), `piece ${i} starts inside the end of piece ${i - 1}`);
  }
  assertCovers(doc, pieces);
  assert.ok(chunk(doc, { maxChars: 300, overlapChars: 0 }).reduce((n, p) => n + p.text.length, 0) < pieces.reduce((n, p) => n + p.text.length, 0));
});

test("ingest - plain text ends pieces on paragraphs, then sentences", () => {
  const paragraphs = ["First paragraph is short.", "Second paragraph. It has two sentences.", "Third one closes the text."];
  assert.deepEqual(
    chunk(paragraphs.join("\n\n"), { maxChars: 70, overlapChars: 0 }).map((p) => p.text),
    [`${paragraphs[0]}\n\n${paragraphs[1]}`, paragraphs[2]],
  );
  const sentences = "One short sentence here. Another sentence follows it. A third sentence ends the paragraph.";
  assert.deepEqual(
    chunk(sentences, { maxChars: 60, overlapChars: 0 }).map((p) => p.text),
    ["One short sentence here. Another sentence follows it.", "A third sentence ends the paragraph."],
  );
});

test("ingest - a code block too long for one piece is split at line ends", () => {
  const lines = Array.from({ length: 40 }, (_, i) => `const value${i} = compute(${i}, "x");`);
  const doc = `# Code\n\nSome intro.\n\n\`\`\`ts\n${lines.join("\n")}\n\`\`\`\n`;
  const pieces = chunk(doc, { maxChars: 150, overlapChars: 40, markdown: true });
  const code = pieces.filter((p) => p.text.includes("const value"));
  assert.ok(code.length > 5);
  for (const piece of code) {
    for (const line of piece.text.split("\n")) assert.ok(line.startsWith("```") || line === "Some intro." || line === "" || line === "# Code" || lines.includes(line), `whole line: ${line}`);
  }
  assertCovers(doc, pieces);
});

test("ingest - a piece cut inside a code block gets the block's fences back, and still fits maxChars", () => {
  const lines = Array.from({ length: 40 }, (_, i) => `nats stream add S${i} --subjects "s${i}.>"`);
  const doc = `# Streams\n\nCreate them:\n\n~~~~shell\n${lines.join("\n")}\n~~~~\n\nThat is all.\n`;
  const pieces = chunk(doc, { maxChars: 200, overlapChars: 60, markdown: true });
  const code = pieces.filter((p) => p.text.includes("nats stream add"));
  assert.ok(code.length > 5);
  for (const { text } of code) {
    assert.ok(text.length <= 200, `${text.length} characters`);
    const fences = text.split("\n").filter((l) => FENCE_LINE.test(l));
    assert.ok(fences.length === 2 && fences[0] === "~~~~shell" && fences[1] === "~~~~", `balanced fences, the opening with its info string:\n${text}`);
    const body = text.slice(text.indexOf("~~~~shell\n") + 10, text.lastIndexOf("\n~~~~"));
    for (const line of body.split("\n")) assert.ok(lines.includes(line), `only code between the fences: ${line}`);
  }
  assertCovers(doc, pieces);
});

test("ingest - ordinals run from 0 without gaps and output is deterministic", () => {
  const opts = { maxChars: 120, overlapChars: 20, markdown: true };
  const pieces = chunk(MD, opts);
  assert.deepEqual(pieces.map((p) => p.ordinal), pieces.map((_, i) => i));
  assert.deepEqual(chunk(MD, opts), pieces);
  assert.deepEqual(chunk(MD.replace(/\n/g, "\r\n"), opts), pieces, "CRLF reads as LF");
});

test("ingest - edge documents", () => {
  assert.deepEqual(chunk("", { maxChars: 10, overlapChars: 0 }), []);
  assert.deepEqual(chunk("  \n\n ", { maxChars: 10, overlapChars: 0, markdown: true }), []);
  assert.deepEqual(chunk("# Only a title\n", { maxChars: 100, overlapChars: 0, markdown: true }), [{ text: "# Only a title", ordinal: 0, heading: "Only a title", title: "Only a title" }]);
  assert.deepEqual(chunk("# Title #\ntext", { maxChars: 100, overlapChars: 0, markdown: true })[0]?.heading, "Title", "closing hashes are not part of the title");
  assert.deepEqual(chunk("#hashtag is not a heading", { maxChars: 100, overlapChars: 0, markdown: true })[0]?.heading, undefined);
  const unclosed = chunk("# A\n```\n# B\nstill code", { maxChars: 100, overlapChars: 0, markdown: true });
  assert.deepEqual(unclosed.map((p) => p.heading), ["A"], "an unclosed fence runs to the end");
});

test("ingest - bad options are refused as INVALID", () => {
  const bad: Array<() => unknown> = [
    () => chunk("x", { maxChars: 0, overlapChars: 0 }),
    () => chunk("x", { maxChars: 10, overlapChars: 10 }),
    () => chunk("x", { maxChars: 10, overlapChars: -1 }),
    () => chunk("x", { maxChars: 2.5, overlapChars: 0 }),
    () => chunk(42 as never, { maxChars: 10, overlapChars: 0 }),
  ];
  for (const [i, call] of bad.entries()) assert.throws(call, (err) => isColmenaError(err, "INVALID"), `case ${i}`);
});
