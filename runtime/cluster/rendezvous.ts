/**
 * Rendezvous (highest random weight) order of nodes for a group: every node
 * computes the same order from the same set of nodes, and a node joining or
 * leaving moves only the groups whose order it enters or leaves.
 */
export function rendezvousOrder(group: string, nodes: readonly string[]): string[] {
  return nodes
    .map((node) => ({ node, weight: fnv1a(`${group}\u0000${node}`) }))
    .sort((a, b) => b.weight - a.weight || (a.node < b.node ? -1 : 1))
    .map((n) => n.node);
}

/** The node a key should live on: its rank's place in its group's order (ranks past the node count wrap). */
export function preferredNode(key: string, spread: ((key: string) => { group: string; rank: number }) | undefined, nodes: readonly string[]): string | undefined {
  if (nodes.length === 0) return undefined;
  const { group, rank } = spread?.(key) ?? { group: key, rank: 0 };
  return rendezvousOrder(group, nodes)[rank % nodes.length];
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  // A final avalanche, so weights of strings that differ only at the end are not close.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}
