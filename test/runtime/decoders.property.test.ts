import assert from "node:assert/strict";
import { test } from "node:test";
import { headers } from "@nats-io/transport-node";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { z } from "zod";
import { Codec } from "../../nats/index.js";
import { ColmenaError } from "../../runtime/index.js";
import { NodeInfoSchema, readNodeInfo, readOwner, readState } from "../../runtime/cluster/entries.js";
import { readControlFrame, readMessage, readMode, readStreamFrame, readTimeout, validateMessage } from "../../runtime/delivery/wire.js";
import { Counter, Echo } from "../fixtures/runtime/kinds.js";

/**
 * Every reader of outside bytes, over arbitrary input: it returns a valid
 * value or throws a ColmenaError, never anything else (a TypeError from a
 * shape it did not expect, a RangeError from nesting, ...).
 */

const codec = new Codec(64 * 1024);
const packr = new Packr({ useRecords: false, moreTypes: true });

/** Runs a reader: a value it returns must pass `valid`; what it throws must be a ColmenaError. */
function typedOrValid<T>(read: () => T, valid: (value: T) => void): void {
  let value: T;
  try {
    value = read();
  } catch (err) {
    assert.ok(err instanceof ColmenaError, `threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
    return;
  }
  valid(value);
}

/** Any value msgpackr can write: JSON, BigInts, typed arrays, Maps, Sets, Dates, null prototypes, nested. */
const values = fc.oneof(
  fc.jsonValue(),
  fc.anything({ withBigInt: true, withTypedArray: true, withMap: true, withSet: true, withDate: true, withNullPrototype: true, withSparseArray: true, maxDepth: 6 }),
  fc.bigInt(),
  fc.float32Array(),
  fc.record({ type: fc.constantFrom("echo", "fail", "slow", "count", "inc", "get", "nope", "__proto__", "toString"), value: fc.anything({ withBigInt: true }), ms: fc.anything(), n: fc.anything(), by: fc.anything(), code: fc.anything() }, { requiredKeys: ["type"] }),
);

const pack = (v: unknown): Uint8Array => {
  try {
    return new Uint8Array(packr.pack(v));
  } catch {
    return new Uint8Array([0xc0]); // a value msgpackr cannot write: nil instead
  }
};
const encoded: fc.Arbitrary<Uint8Array> = values.map(pack);

/** msgpack extension values of every type number, alone and inside an array and a map. */
const extensions: fc.Arbitrary<Uint8Array> = fc.tuple(fc.integer({ min: -128, max: 127 }), fc.uint8Array({ maxLength: 40 })).chain(([type, data]) => {
  const ext = Uint8Array.from([0xc7, data.length, type & 0xff, ...data]);
  return fc.constantFrom(ext, Uint8Array.from([0x91, ...ext]), Uint8Array.from([0x81, 0xa4, ...Buffer.from("type"), ...ext]));
});

/** Arrays nested far past any stack, and truncated or oversized strings. */
const extremes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.integer({ min: 1, max: 300_000 }).map((depth) => Uint8Array.from([...new Uint8Array(depth).fill(0x91), 0xc0])),
  fc.integer({ min: 60_000, max: 70_000 }).map((n) => pack({ type: "echo", value: "x".repeat(n) })),
  fc.integer({ min: 0, max: 0xffffffff }).map((len) => Uint8Array.from([0xdb, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff, 0x61])),
);

const inputs: fc.Arbitrary<Uint8Array> = fc.oneof({ weight: 3, arbitrary: encoded }, { weight: 2, arbitrary: fc.uint8Array({ maxLength: 256 }) }, { weight: 1, arbitrary: extensions }, { weight: 1, arbitrary: extremes });

test("decoders - an actor message from any bytes is a valid message or a typed error", () => {
  fc.assert(
    fc.property(inputs, (bytes) => {
      for (const kind of [Echo.address, Counter.address]) typedOrValid(() => readMessage(kind, codec, bytes), (msg) => assert.deepEqual(validateMessage(kind, msg), msg));
    }),
    { numRuns: 400 },
  );
});

test("decoders - stream and control frames from any bytes are valid frames or typed errors", () => {
  fc.assert(
    fc.property(fc.oneof(inputs, fc.tuple(fc.integer({ min: -2, max: 4 }), values).map(pack)), (bytes) => {
      typedOrValid(() => readStreamFrame(codec, bytes), (f) => assert.ok([0, 1, 2].includes(f[0])));
      typedOrValid(() => readControlFrame(codec, bytes), (f) => assert.ok(f[0] === 1 || (f[0] === 0 && Number.isInteger(f[1]) && f[1] > 0)));
    }),
    { numRuns: 400 },
  );
});

test("decoders - the timeout and mode headers from any string are read or refused INVALID", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string(), fc.boolean(), (timeout, mode, hasReply) => {
      const h = headers();
      // Header values are one line: what the server would have carried.
      h.set("Colmena-Timeout", timeout.replace(/[\r\n]/g, "") || "0");
      h.set("Colmena-Mode", mode.replace(/[\r\n]/g, "") || "ask");
      typedOrValid(() => readTimeout(h), (ms) => assert.ok(ms === undefined || (Number.isFinite(ms) && ms >= 0)));
      assert.ok(["tell", "ask", "stream"].includes(readMode(hasReply, h)));
    }),
    { numRuns: 300 },
  );
});

test("decoders - an error reply of any shape becomes a ColmenaError and never throws", () => {
  fc.assert(
    fc.property(fc.oneof(values, fc.record({ code: fc.constantFrom("INVALID", "TIMEOUT", "nope"), message: fc.anything(), retryable: fc.anything(), retryAfterMs: fc.anything(), details: fc.anything(), toString: fc.anything() })), (wire) => {
      const err = ColmenaError.fromWire(wire);
      assert.ok(err instanceof ColmenaError);
      assert.ok(err.retryAfterMs === undefined || Number.isFinite(err.retryAfterMs));
    }),
    { numRuns: 400 },
  );
});

const nodeInfo = fc.record({
  id: fc.constantFrom("n1", "node-2", "a.b", ""),
  roles: fc.array(fc.string(), { maxLength: 3 }),
  kinds: fc.array(fc.constantFrom("echo", "counter", "a b"), { maxLength: 3 }),
  version: fc.string(),
  startedAt: fc.oneof(fc.double(), fc.bigInt()),
  load: fc.record({ inFlight: fc.oneof(fc.nat(), fc.double()), mailbox: fc.nat(), rssMb: fc.nat(), pid: fc.oneof(fc.nat(), fc.string()) }),
});

test("decoders - membership, placement and state entries from any bytes are valid or typed errors", () => {
  fc.assert(
    fc.property(fc.oneof(inputs, nodeInfo.map(pack)), fc.constantFrom("n1", "node-2"), (bytes, key) => {
      typedOrValid(() => readNodeInfo(codec, key, bytes), (info) => {
        assert.equal(NodeInfoSchema.safeParse(info).success, true);
        assert.equal(info.id, key);
      });
      typedOrValid(() => readOwner(bytes), (owner) => assert.match(owner, /^[A-Za-z0-9_\-=]{1,256}$/));
      typedOrValid(() => readState(codec, bytes), () => undefined);
      typedOrValid(() => readState(codec, bytes, z.number().int()), (n) => assert.ok(Number.isInteger(n)));
    }),
    { numRuns: 400 },
  );
});
