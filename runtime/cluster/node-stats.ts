/**
 * Every node answers its own actors' stats on `<ns>.node.<id>.stats`, so one
 * node can show the whole cluster's actors: `colmena up` runs the actor kinds
 * in a worker thread, a node of its own, and the bridge's status would
 * otherwise show only the bridge's (empty) node.
 */
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Codec } from "../../nats/index.js";
import type { Subjects } from "../contract/subjects.js";
import type { NodeActors } from "../contract/stats.js";

/** Answers stats requests for this node until the subscription is closed. */
export function serveNodeStats(nc: NatsConnection, codec: Codec, subjects: Subjects, nodeId: string, stats: () => NodeActors): Subscription {
  return nc.subscribe(subjects.nodeStats(nodeId), {
    callback: (err, msg) => {
      if (!err) msg.respond(codec.encode(stats()));
    },
  });
}

/** The stats of each node, asked in parallel; a node that does not answer within `timeoutMs` is listed as unreachable. */
export async function gatherNodeStats(nc: NatsConnection, codec: Codec, subjects: Subjects, nodeIds: readonly string[], timeoutMs: number): Promise<NodeActors[]> {
  return Promise.all(
    nodeIds.map(async (node): Promise<NodeActors> => {
      try {
        return codec.decode<NodeActors>((await nc.request(subjects.nodeStats(node), new Uint8Array(), { timeout: timeoutMs })).data);
      } catch {
        return { node, supervisor: "unreachable", kinds: [] };
      }
    }),
  );
}
