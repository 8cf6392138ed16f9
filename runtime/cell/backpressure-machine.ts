import { setup } from "xstate";

/**
 * Backpressure of one actor: the mailbox depth crossing its watermarks drives
 * the transitions (the cell sends events only on crossings, so admission
 * stays O(1) per message).
 *
 *   accepting ──HIGH──▶ throttled ──FULL──▶ shedding
 *       ▲                   │                  │
 *       └──────LOW──────────┴───────LOW────────┘
 *
 * throttled: stop taking new work from shared queues (a pool member leaves
 * its queue group); shedding: reject at once with OVERLOADED; back to
 * accepting below the low watermark.
 */
export type BackpressureEvent = { type: "HIGH" } | { type: "FULL" } | { type: "LOW" };

export const backpressureMachine = setup({
  types: { events: {} as BackpressureEvent },
  actions: {
    stopIntake: () => {},
    resumeIntake: () => {},
  },
}).createMachine({
  id: "backpressure",
  initial: "accepting",
  states: {
    accepting: {
      on: { HIGH: "throttled", FULL: "shedding" },
    },
    throttled: {
      entry: "stopIntake",
      on: { FULL: "shedding", LOW: { target: "accepting", actions: "resumeIntake" } },
    },
    shedding: {
      entry: "stopIntake",
      on: { LOW: { target: "accepting", actions: "resumeIntake" } },
    },
  },
});

