/**
 * What a supervisor does about a failed child.
 * - resume: nothing; the child carries on with its state.
 * - restart: restart the child (and, by strategy, some siblings).
 * - stop: stop the child and remove it; it is not restarted.
 * - escalate: stop every child and hand the failure to the parent.
 */
export type Directive = "resume" | "restart" | "stop" | "escalate";

/** Chooses the directive for a failure. */
export type Decider = (error: unknown) => Directive;

export const defaultDecider: Decider = () => "restart";
