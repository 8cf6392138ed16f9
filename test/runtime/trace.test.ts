import assert from "node:assert/strict";
import { test } from "node:test";
import { childSpan, formatTraceparent, newTrace, parseTraceparent } from "../../runtime/observe/trace.js";

test("trace - traceparent round-trips and child spans keep the trace id", () => {
  const t = newTrace();
  assert.match(formatTraceparent(t), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  assert.deepEqual(parseTraceparent(formatTraceparent(t)), { ...t, isRemote: true });
  const c = childSpan(t);
  assert.equal(c.traceId, t.traceId);
  assert.notEqual(c.spanId, t.spanId);
});

test("trace - malformed or all-zero headers are ignored", () => {
  for (const bad of ["", "garbage", "00-xyz-abc-01", `00-${"0".repeat(32)}-${"1".repeat(16)}-01`, `00-${"1".repeat(32)}-${"0".repeat(16)}-01`]) {
    assert.equal(parseTraceparent(bad), undefined, bad);
  }
  assert.equal(parseTraceparent(`00-${"a".repeat(32)}-${"b".repeat(16)}-00`)?.traceFlags, 0);
});
