import assert from "node:assert/strict";
import { test } from "node:test";
import { PoolBalancer } from "../../runtime/delivery/balancer.js";

/** A host whose load is set by the test; pickLocal says whether an instance was found. */
function host(busy: number, slots: number) {
  const calls: boolean[] = [];
  const target = { admit: () => undefined };
  return {
    calls,
    load: () => ({ busy, slots }),
    pickLocal: (othersHost: boolean) => {
      calls.push(othersHost);
      return othersHost ? (busy < slots ? target : undefined) : target;
    },
    anyLocal: () => target,
  };
}

/** Deterministic "random": picks the given indexes in turn. */
const picks = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test("balancer - no other node hosts the kind: a local instance below its watermark, else the queue group", () => {
  const balancer = new PoolBalancer(() => []);
  assert.ok(balancer.route("k", host(10, 4)) && "local" in balancer.route("k", host(10, 4))!);
  assert.equal(balancer.route("k", undefined), undefined);
});

test("balancer - of two sampled nodes the less loaded wins; a tie with this node stays local", () => {
  const pools = [
    { node: "x", load: { busy: 3, slots: 4 } },
    { node: "y", load: { busy: 1, slots: 4 } },
  ];
  const balancer = new PoolBalancer(() => pools, picks(0, 0.99));
  assert.deepEqual(balancer.route("k", undefined), { node: "y" });
  assert.deepEqual(balancer.route("k", host(3, 4)), { node: "y" }, "this node is busier than y");
  const tie = host(1, 4);
  const route = balancer.route("k", tie);
  assert.ok(route && "local" in route, "a tie stays local");
  assert.deepEqual(tie.calls, [true], "on a tie only a free slot will do");
});

test("balancer - what this node sent and has not had answered counts against the node it went to", () => {
  const pools = [{ node: "x", load: { busy: 0, slots: 2 } }];
  const balancer = new PoolBalancer(() => pools);
  const settled = [balancer.sent("x", "k"), balancer.sent("x", "k")];
  const route = balancer.route("k", host(1, 2));
  assert.ok(route && "local" in route, "x has 2 of 2 in flight from here, this node 1 of 2");
  settled.forEach((s) => s());
  settled[0]!(); // settling twice counts once
  assert.deepEqual(balancer.route("k", host(1, 2)), { node: "x" });
  balancer.sent("x", "other");
  balancer.sent("x", "other");
  assert.deepEqual(balancer.route("k", host(1, 2)), { node: "x" }, "other kinds' sends are counted apart");
});
