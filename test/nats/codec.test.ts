import assert from "node:assert/strict";
import { test } from "node:test";
import { Codec, isNatsError } from "../../nats/index.js";

test("codec - round-trips maps, arrays, binary and typed arrays", () => {
  const codec = new Codec();
  const value = { s: "ñandú", n: 1.5, big: 2 ** 40, a: [1, null, true], b: new Uint8Array([1, 2]), v: new Float32Array([0.25, -1]) };
  assert.deepEqual(codec.decode(codec.encode(value)), value);
});

test("codec - undecodable and empty payloads are DECODE errors", () => {
  const codec = new Codec();
  const truncated = codec.encode({ text: "a fairly long string" }).subarray(0, 6);
  assert.throws(() => codec.decode(truncated), (e) => isNatsError(e, "DECODE"));
  assert.throws(() => codec.decode(new Uint8Array(0)), (e) => isNatsError(e, "DECODE"));
});

test("codec - payloads over the size guard are TOO_LARGE, both ways", () => {
  const codec = new Codec(1024);
  assert.throws(() => codec.encode({ text: "x".repeat(2000) }), (e) => isNatsError(e, "TOO_LARGE") && e.details?.limit === 1024);
  const big = new Codec().encode({ text: "x".repeat(2000) });
  assert.throws(() => codec.decode(big), (e) => isNatsError(e, "TOO_LARGE"));
  assert.throws(() => new Codec(0), RangeError);
});
