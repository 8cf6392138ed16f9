import assert from "node:assert/strict";
import { test } from "node:test";
import type { DirectedGraphEdge, DirectedGraphNode } from "@xstate/graph";
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, getStateNodes, toDirectedGraph } from "@xstate/graph";
import type { SnapshotFrom, StateValue } from "xstate";
import { pathToStateValue } from "xstate";
import { Children } from "../../supervisors/children.js";
import { ManualClock } from "../../supervisors/index.js";
import type { SupervisorMachineEvent } from "../../supervisors/supervisor-machine.js";
import { supervisorMachine } from "../../supervisors/supervisor-machine.js";
import { fixedBackoff } from "./helpers.js";

type Snapshot = SnapshotFrom<typeof supervisorMachine>;
type StateNode = DirectedGraphEdge["source"];

function allEdges(node: DirectedGraphNode): DirectedGraphEdge[] {
  return [...node.edges, ...node.children.flatMap(allEdges)];
}

function isIn(snapshot: Snapshot, node: StateNode): boolean {
  return snapshot.matches(pathToStateValue(node.path) as StateValue as never);
}

// A registry whose children never run: the walk is pure, invoked actors are not started.
const children = new Children({ failed: () => "restart", emit: () => {} });
children.add({ id: "a", start: () => Promise.reject(new Error("never started in a walk")) });
const input = {
  name: "walk",
  children,
  strategy: "one-for-one" as const,
  // One restart allowed, so a second failure exercises escalation by intensity.
  intensity: { maxRestarts: 1, withinMs: 1_000 },
  backoff: fixedBackoff,
  clock: new ManualClock(),
  random: () => 0.5,
  emit: () => {},
};

const edges = allEdges(toDirectedGraph(supervisorMachine));
const payloads: Record<string, SupervisorMachineEvent[]> = {
  START: [{ type: "START" }],
  STOP: [{ type: "STOP", reason: "walk" }],
  ESCALATE: [{ type: "ESCALATE", id: "a", error: "fatal" }],
  CHILD_FAILED: [
    { type: "CHILD_FAILED", id: "a", generation: 1, error: "current instance" }, // its generation on being added
    { type: "CHILD_FAILED", id: "a", generation: 99, error: "stale instance" },
  ],
};
// Every event the machine names, including its own done.actor and after events.
const events = [...new Set(edges.map((edge) => edge.label.text))].flatMap(
  (type) => payloads[type] ?? [{ type } as unknown as SupervisorMachineEvent],
);
const traversal = {
  input,
  events,
  serializeState: (snapshot: Snapshot) =>
    JSON.stringify({
      value: snapshot.value,
      restarts: snapshot.context.restarts.length,
      queued: Math.min(snapshot.context.mailbox.length, 1),
    }),
};

test("machine - every state is reachable from idle", () => {
  const paths = getShortestPaths(supervisorMachine, traversal);
  const unreached = getStateNodes(supervisorMachine.root)
    .filter((node) => !paths.some((path) => isIn(path.state, node)))
    .map((node) => node.id);
  assert.deepEqual(unreached, []);
});

test("machine - every transition is taken by some event in some state", () => {
  const steps = adjacencyMapToArray(getAdjacencyMap(supervisorMachine, traversal));
  const untaken = edges
    .filter(
      (edge) =>
        !steps.some(
          (step) =>
            step.event.type === edge.label.text && isIn(step.state, edge.source) && isIn(step.nextState, edge.target),
        ),
    )
    .map((edge) => `${edge.source.id} --${edge.label.text}--> ${edge.target.id}`);
  assert.equal(edges.length, 21);
  assert.deepEqual(untaken, []);
});
