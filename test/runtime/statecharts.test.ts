import assert from "node:assert/strict";
import { test } from "node:test";
import { backpressureMachine, lifecycleMachine } from "../../runtime/index.js";
import { statechartCoverage } from "../helpers/statechart-coverage.js";

const types = (...names: string[]) => names.map((type) => ({ type }));

test("statecharts - every lifecycle state and transition is reachable", () => {
  const c = statechartCoverage(lifecycleMachine, types("STARTED", "SATURATE", "RELIEVE", "FAIL", "RESUME", "RESTART", "DRAIN", "DRAINED", "STOP"));
  assert.deepEqual(c.states.reached, c.states.all);
  assert.deepEqual(c.transitions.reached, c.transitions.all);
  assert.ok(c.transitions.all.length >= 17, `expected the full machine, saw ${c.transitions.all.length} transitions`);
});

test("statecharts - every backpressure state and transition is reachable", () => {
  const c = statechartCoverage(backpressureMachine, types("HIGH", "FULL", "LOW"));
  assert.deepEqual(c.states.reached, c.states.all);
  assert.deepEqual(c.transitions.reached, c.transitions.all);
  assert.equal(c.transitions.all.length, 5);
});
