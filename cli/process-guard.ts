import type { Logger } from "../runtime/index.js";

/** Where a fault is recorded: a node's ActorSystem (recordFault), so that its readiness fails. */
export type FaultSink = (origin: string, err: unknown) => void;

type Origin = "unhandledRejection" | "uncaughtException";

/**
 * The last line of defence of a node's process (or worker thread): an
 * unhandled rejection or uncaught exception is a bug, and Node's default —
 * end the process, and the embedded nats-server with it — turns one bad
 * message into an outage. The guard logs it loudly (fatal, with its stack),
 * and records it with every sink, which makes the node unready (`/ready`
 * answers 503 naming `faults`), so an orchestrator replaces it while it
 * goes on answering what it can. Faults before a sink exists are kept and
 * handed to the first one.
 */
export class ProcessGuard {
  readonly #log: Logger;
  readonly #sinks = new Set<FaultSink>();
  readonly #early: Array<[Origin, unknown]> = [];
  constructor(log: Logger) {
    this.#log = log;
    process.on("unhandledRejection", (reason) => this.#fault("unhandledRejection", reason));
    process.on("uncaughtException", (err) => this.#fault("uncaughtException", err));
  }

  /** Records every fault from now on (and those seen before) with `sink`. */
  report(sink: FaultSink): void {
    this.#sinks.add(sink);
    for (const [origin, err] of this.#early.splice(0)) sink(origin, err);
  }

  #fault(origin: Origin, err: unknown): void {
    this.#log.fatal({ err, origin }, `${origin}: a bug escaped every handler; this node stays up but is no longer ready`);
    if (this.#sinks.size === 0 && this.#early.length < 100) this.#early.push([origin, err]);
    for (const sink of this.#sinks) {
      try {
        sink(origin, err);
      } catch (sinkErr) {
        this.#log.error({ err: sinkErr }, "recording a fault failed");
      }
    }
  }
}
