import type { Clock, TimerHandle } from "../../supervisors/index.js";
import { ColmenaError } from "../contract/errors.js";

/** How often a buffered consume checks that it is not stuck. */
export const STALL_CHECK_MS = 5_000;

export interface StallWatch {
  /** What the server says waits for the consumer (its `num_pending`); undefined when it cannot be asked. */
  pending(): Promise<number | undefined>;
  /** Entries the consume has handed over so far. */
  delivered(): number;
  /** No entry in hand (every one taken has been answered). */
  idle(): boolean;
  stopped(): boolean;
  stopping: Promise<void>;
  clock: Clock;
  /** Names the consumer in the failure. */
  what: string;
}

/**
 * Rejects when a consume is stuck: at a check, entries wait on the server,
 * none was delivered since the last check and none is in hand; resolves
 * once the consume stops. After a NATS server died under it, a consume was
 * seen to go on that way for more than a minute (a shard replica behind its
 * log, acknowledged documents not searchable); failing it lets the
 * intake open its consumer again after what the activation holds.
 */
export async function watchForStall(w: StallWatch): Promise<void> {
  for (let seen = -1; !w.stopped(); ) {
    let timer: TimerHandle | undefined;
    await Promise.race([new Promise<void>((resolve) => (timer = w.clock.setTimeout(resolve, STALL_CHECK_MS))), w.stopping]);
    if (timer !== undefined) w.clock.clearTimeout(timer);
    if (w.stopped()) return;
    if (w.delivered() !== seen || !w.idle()) {
      seen = w.delivered();
      continue;
    }
    const pending = (await w.pending()) ?? 0;
    if (pending > 0 && w.delivered() === seen && w.idle() && !w.stopped()) {
      throw new ColmenaError("UNAVAILABLE", `${w.what} delivered nothing for ${STALL_CHECK_MS} ms with ${pending} entries waiting`);
    }
  }
}
