import type { ActorSystem, Logger } from "../../runtime/index.js";
import type { IndexSpec } from "./index-spec.js";
import { ensureShards } from "./shards.js";

/** Pause before a round that failed (a replica not reached in time) is tried again. */
const RETRY_MS = 2_000;

/**
 * Brings the replicas of the indexes up again whenever a node leaves (its
 * replicas are placed on survivors once its lease has lapsed) or this node
 * rejoins after fencing itself (it passivated its own): a replica applies
 * its write log only while it is active, and one that waits for the first
 * question to bring it up replays its log inside that question. One round
 * at a time; a leave during a round makes another. Returns the stop.
 */
export function keepShardsUp(system: ActorSystem, specs: readonly IndexSpec[], log: Pick<Logger, "warn">): () => void {
  let running = false;
  let again = false;
  let stopped = false;
  const round = async (): Promise<void> => {
    do {
      again = false;
      for (const spec of specs) {
        try {
          await ensureShards(system, spec);
        } catch (err) {
          log.warn({ err, index: spec.name }, "could not bring every shard replica up; trying again");
          again = true;
          await new Promise((r) => setTimeout(r, RETRY_MS));
        }
      }
    } while (again && !stopped);
  };
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    void round().finally(() => (running = false));
  };
  system.membership.on("leave", run);
  system.membership.on("rejoined", run);
  return () => {
    stopped = true;
    system.membership.off("leave", run);
    system.membership.off("rejoined", run);
  };
}
