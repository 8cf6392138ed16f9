import { getAdjacencyMap, getStateNodes, toDirectedGraph, type DirectedGraphNode } from "@xstate/graph";
import type { AnyStateMachine, EventObject } from "xstate";

export interface Coverage {
  states: { all: string[]; reached: string[] };
  transitions: { all: string[]; reached: string[] };
}

/**
 * Explores a machine with the given events (breadth-first, through XState's
 * own transition function) and reports which of its state nodes and
 * transitions the exploration reached, so a test can assert full coverage.
 */
export function statechartCoverage(machine: AnyStateMachine, events: EventObject[]): Coverage {
  const allStates = getStateNodes(machine).map((n) => n.id);
  const allEdges: string[] = [];
  const walk = (node: DirectedGraphNode) => {
    for (const e of node.edges) allEdges.push(edgeKey(e.source.id, e.label.text, e.target.id));
    node.children.forEach(walk);
  };
  walk(toDirectedGraph(machine));

  const reachedStates = new Set<string>();
  const reachedEdges = new Set<string>();
  const adjacency = getAdjacencyMap(machine, { events });
  type Step = { state: { value: unknown }; transitions: Record<string, { event: EventObject; state: { value: unknown } }> };
  for (const { state, transitions } of Object.values(adjacency) as Step[]) {
    const from = activeIds(machine, state.value);
    from.forEach((id) => reachedStates.add(id));
    for (const { event, state: next } of Object.values(transitions)) {
      const to = activeIds(machine, next.value);
      for (const f of from) for (const t of to) if (f !== t || sameValue(state.value, next.value)) reachedEdges.add(edgeKey(f, event.type, t));
    }
  }
  return {
    states: { all: allStates, reached: allStates.filter((s) => reachedStates.has(s)) },
    transitions: { all: allEdges, reached: allEdges.filter((e) => reachedEdges.has(e)) },
  };
}

const edgeKey = (source: string, event: string, target: string) => `${source} --${event}--> ${target}`;
const sameValue = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Ids of the active state nodes (leaf and ancestors) for a state value. */
function activeIds(machine: AnyStateMachine, value: unknown, prefix = machine.id): string[] {
  if (typeof value === "string") return [prefix, `${prefix}.${value}`];
  const ids = [prefix];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) ids.push(...activeIds(machine, v, `${prefix}.${k}`));
  return ids;
}
