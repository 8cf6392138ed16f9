import assert from "node:assert/strict";
import { test } from "node:test";
import { Mailbox } from "../../runtime/cell/mailbox.js";

test("mailbox - FIFO up to capacity, then refuses", () => {
  const m = new Mailbox<number>(3);
  assert.ok(m.offer(1) && m.offer(2) && m.offer(3));
  assert.equal(m.offer(4), false);
  assert.equal(m.take(), 1);
  assert.ok(m.offer(5), "a slot frees up after a take");
  assert.deepEqual([m.take(), m.take(), m.take(), m.take()], [2, 3, 5, undefined]);
});

test("mailbox - system messages come first and do not count against capacity", () => {
  const m = new Mailbox<string, string>(1);
  m.offer("user");
  m.offerSystem("stop");
  assert.equal(m.hasSystem, true);
  assert.equal(m.takeSystem(), "stop");
  assert.equal(m.take(), "user");
});

test("mailbox - drainTo hands every queued message over", () => {
  const m = new Mailbox<number>(4);
  [1, 2, 3].forEach((i) => m.offer(i));
  const seen: number[] = [];
  m.drainTo((i) => seen.push(i));
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(m.size, 0);
  assert.throws(() => new Mailbox(0), RangeError);
});
