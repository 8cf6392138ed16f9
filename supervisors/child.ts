import type { Directive } from "./directive.js";

/**
 * Called by a running child when it fails. The return tells the child what
 * happens: "resume" means carry on with state kept; anything else means the
 * supervisor is acting (the child should stop taking work; the supervisor
 * stops or restarts it). A report from an instance the supervisor has
 * already replaced or is stopping is ignored and answered "stop".
 */
export type FailureReporter = (error: unknown) => Directive;

/** A started child, as its supervisor sees it. */
export interface RunningChild {
  stop(reason: string): Promise<void>;
}

/**
 * How to start a child. Each start makes a fresh instance with its own
 * reporter. A start() that rejects is a failure of that child, handled like
 * any other (decider, intensity, backoff).
 */
export interface ChildSpec {
  id: string;
  start(report: FailureReporter): Promise<RunningChild>;
}
