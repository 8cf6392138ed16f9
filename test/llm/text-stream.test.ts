import assert from "node:assert/strict";
import { dirname } from "node:path";
import { after, before, test } from "node:test";
import { IncrementalDecoder } from "../../actors/llm/detokenizer.js";
import { readModelFiles } from "../../actors/llm/model-files.js";
import { StopScanner } from "../../actors/llm/stop.js";
import { TextTokenizer } from "../../actors/llm/tokenizer.js";
import type { TinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { removeDir, tinyDecoder } from "./helpers.js";

let model: TinyDecoder;
let tokenizer: TextTokenizer;

before(async () => {
  model = await tinyDecoder();
  tokenizer = TextTokenizer.fromFiles(await readModelFiles(model.dir));
});

after(() => removeDir(dirname(model.dir)));

test("detokenizer - streams multi-byte characters whole and adds up to the full decode", () => {
  const text = "The hive's honey: ñandú, Ærø, 蜂蜜 and 🐝🍯 bees.";
  const ids = tokenizer.encode(text);
  assert.ok(ids.length > [...text].length / 2);
  const stream = new IncrementalDecoder((x) => tokenizer.decode(x));
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.flush());
  assert.ok(pieces.includes(""), "an incomplete character is held back");
  for (const piece of pieces) assert.ok(!piece.includes("\uFFFD"), `broken UTF-8 in ${JSON.stringify(piece)}`);
  assert.equal(pieces.join(""), text);
  assert.equal(tokenizer.decode(ids), text);
});

test("detokenizer - flush shows a truncated character as U+FFFD", () => {
  const [first] = tokenizer.encode("🐝");
  const stream = new IncrementalDecoder((x) => tokenizer.decode(x));
  assert.equal(stream.push(first as number), "");
  assert.equal(stream.flush(), "\uFFFD");
});

test("detokenizer - special tokens are not shown", () => {
  const ids = tokenizer.encode("<s>bees</s>");
  assert.equal(ids[0], 1);
  assert.equal(ids.at(-1), 2);
  const stream = new IncrementalDecoder((x) => tokenizer.decode(x));
  assert.equal(ids.map((id) => stream.push(id)).join("") + stream.flush(), "bees");
});

test("tokenizer - eos ids come from generation_config, config and tokenizer_config", () => {
  assert.deepEqual([...tokenizer.eosIds], [2]);
  assert.equal(tokenizer.bosToken, "<s>");
  assert.equal(tokenizer.eosToken, "</s>");
});

test("stop - a stop string split across pieces ends the text before it", () => {
  const scanner = new StopScanner(["<|end|>", "STOP"]);
  assert.deepEqual(scanner.push("The answer <|"), { text: "The answer ", stopped: false });
  assert.deepEqual(scanner.push("en"), { text: "", stopped: false });
  assert.deepEqual(scanner.push("d|> trailing"), { text: "", stopped: true });
});

test("stop - held-back text that is not a stop string is released", () => {
  const scanner = new StopScanner(["STOP"]);
  assert.deepEqual(scanner.push("go ST"), { text: "go ", stopped: false });
  assert.deepEqual(scanner.push("ay"), { text: "STay", stopped: false });
  assert.deepEqual(scanner.push(" STO"), { text: " ", stopped: false });
  assert.equal(scanner.flush(), "STO");
});

test("stop - the earliest of several stop strings wins", () => {
  const scanner = new StopScanner(["cd", "b"]);
  assert.deepEqual(scanner.push("abcd"), { text: "a", stopped: true });
});
