import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { Codec } from "../../nats/index.js";
import type { Logger } from "../observe/logger.js";
import { nodeMetrics, type MetricsSnapshot } from "../observe/metrics.js";

/**
 * Every node answers a scrape on `<ns>.metrics` with its thread's registry,
 * so a bridge can show the whole cluster's figures (`http.clusterMetrics`).
 * Each thread of a process is a node of its own and answers once: nothing is
 * counted twice. What a node answers is its registry as JSON, which
 * `mergedExposition` adds up with the others'.
 */
export function serveMetrics(nc: NatsConnection, subject: string, codec: Codec, log: Logger): Subscription {
  return nc.subscribe(subject, {
    callback: (err, m) => {
      if (err || !m.reply) return;
      nodeMetrics.getMetricsAsJSON().then(
        (metrics) => m.respond(codec.encode(metrics)),
        (e: unknown) => log.warn({ err: e }, "could not answer a metrics scrape"),
      );
    },
  });
}

/**
 * Asks every node for its figures and takes the answers that come within
 * `timeoutMs`, at most `expected` (the live nodes of the membership). A node
 * that answers late or with bytes that are not a snapshot is left out of this
 * scrape; the others still show.
 */
export async function scrapeNodes(nc: NatsConnection, subject: string, codec: Codec, expected: number, timeoutMs: number): Promise<MetricsSnapshot[]> {
  const snapshots: MetricsSnapshot[] = [];
  const replies = await nc.requestMany(subject, new Uint8Array(0), { strategy: "count", maxMessages: Math.max(1, expected), maxWait: timeoutMs });
  try {
    for await (const m of replies) {
      try {
        const value = codec.decode(m.data);
        if (Array.isArray(value)) snapshots.push(value as MetricsSnapshot);
      } catch {
        // Not a snapshot: this node's figures are missing from this scrape.
      }
    }
  } catch {
    // No responders, or the wait ended: what arrived is the answer.
  }
  return snapshots;
}
