import { setup } from "xstate";

/**
 * Lifecycle of one actor activation (see DESIGN.md):
 *
 *   starting → running ⇄ saturated → draining → stopped
 *   running | saturated | starting → failed → restarting | stopped
 *
 * `failed` waits for the supervisor's directive: RESUME (keep state),
 * RESTART (a new incarnation) or STOP. A healthy actor restarted with its
 * siblings (one-for-all, rest-for-one) goes to restarting directly.
 */
export type LifecycleEvent =
  | { type: "STARTED" }
  | { type: "SATURATE" }
  | { type: "RELIEVE" }
  | { type: "FAIL" }
  | { type: "RESUME" }
  | { type: "RESTART" }
  | { type: "DRAIN" }
  | { type: "DRAINED" }
  | { type: "STOP" };

export const lifecycleMachine = setup({
  types: { events: {} as LifecycleEvent },
}).createMachine({
  id: "lifecycle",
  initial: "starting",
  states: {
    starting: {
      on: { STARTED: "running", FAIL: "failed", DRAIN: "draining" },
    },
    running: {
      on: { SATURATE: "saturated", FAIL: "failed", RESTART: "restarting", DRAIN: "draining" },
    },
    saturated: {
      on: { RELIEVE: "running", FAIL: "failed", RESTART: "restarting", DRAIN: "draining" },
    },
    failed: {
      on: { RESUME: "running", RESTART: "restarting", STOP: "stopped" },
    },
    restarting: {
      on: { STARTED: "running", FAIL: "failed", STOP: "stopped" },
    },
    draining: {
      on: { DRAINED: "stopped" },
    },
    stopped: { type: "final" },
  },
});

