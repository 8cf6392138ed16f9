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

/** Deterministic "random": the given values in turn. */
const picks = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};

test("balancer - equally busy nodes are chosen at random among them", () => {
  const pools = ["x", "y", "z"].map((node) => ({ node, load: { busy: 1, slots: 4 } }));
  assert.deepEqual(new PoolBalancer(() => pools, picks(0.99)).route("k", undefined), { node: "x" }, "no tie replaced x");
  assert.deepEqual(new PoolBalancer(() => pools, picks(0.1)).route("k", undefined), { node: "z" }, "every tie replaced the choice");
});

test("balancer - another node's load is the others' work it announced plus this node's outstanding there, counted once", () => {
  const pools = [
    { node: "x", load: { busy: 2, slots: 4 } },
    { node: "y", load: { busy: 0, slots: 4 } },
  ];
  const balancer = new PoolBalancer(() => pools);
  assert.deepEqual(balancer.route("k", undefined), { node: "y" });
  for (let i = 0; i < 3; i++) balancer.sent("y", "k");
  assert.deepEqual(balancer.route("k", undefined), { node: "x" }, "y: 3 of 4 outstanding from here beats x's 2 of 4 announced");
  pools[1] = { node: "y", load: { busy: 3, slots: 4 } }; // y's next heartbeat: the same 3, not 3 more
  assert.deepEqual(balancer.route("k", undefined), { node: "x" });
  balancer.sent("x", "k");
  balancer.sent("x", "k");
  assert.deepEqual(balancer.route("k", undefined), { node: "y" }, "x: its 2 others' plus 2 from here; y: 3");
});

test("balancer - no other node hosts the kind: a local instance below its watermark, else the queue group", () => {
  const balancer = new PoolBalancer(() => []);
  assert.ok(balancer.route("k", host(10, 4)) && "local" in balancer.route("k", host(10, 4))!);
  assert.equal(balancer.route("k", undefined), undefined);
});

test("balancer - the least busy node wins; a tie with this node stays local", () => {
  const pools = [
    { node: "x", load: { busy: 3, slots: 4 } },
    { node: "y", load: { busy: 1, slots: 4 } },
  ];
  const balancer = new PoolBalancer(() => pools);
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
