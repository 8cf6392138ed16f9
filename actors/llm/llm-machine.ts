import { assign, setup, type SnapshotFrom } from "xstate";

/**
 * The one model of an llm instance (README.md, "Lifecycle"). The runtime's
 * cell keeps its own generic lifecycle (mailbox, supervision); this is what
 * only an llm instance knows: whether its model is loaded and warm, whether
 * every sequence slot is taken, and whether its device failed.
 *
 *   unloaded → loading → warming → ready ⇄ busy → draining → unloaded
 *   loading | warming | ready | busy → failed → (supervisor) RESTART → unloaded
 *
 * `busy` means every sequence slot of the backend is taken: the instance
 * takes no more work until one ends (FREE). A failure (a model that will not
 * load, a warm-up or generation that crashes) moves it to `failed`; the
 * kind's supervisor then starts a new incarnation, which sends RESTART and
 * loads again. A FAIL that says the device failed sets `deviceFailed`, and
 * every later load of the instance is on the CPU. The machine outlives the
 * incarnations of its instance, so `failed → unloaded` shows in status and
 * a drained instance can be loaded again.
 */
export type LlmInstanceEvent =
  | { type: "LOAD" }
  | { type: "LOADED" }
  | { type: "WARMED" }
  | { type: "SATURATE" }
  | { type: "FREE" }
  | { type: "FAIL"; deviceFailed: boolean }
  | { type: "RESTART" }
  | { type: "DRAIN" }
  | { type: "DRAINED" };

export interface LlmInstanceContext {
  /** Its GPU failed: it loads on the CPU from now on. */
  deviceFailed: boolean;
}

const fail = { target: "failed", actions: "noteFailure" } as const;

export const llmInstanceMachine = setup({
  types: { context: {} as LlmInstanceContext, events: {} as LlmInstanceEvent },
  actions: {
    noteFailure: assign({ deviceFailed: ({ context, event }) => context.deviceFailed || (event.type === "FAIL" && event.deviceFailed) }),
  },
}).createMachine({
  id: "llm",
  initial: "unloaded",
  context: { deviceFailed: false },
  states: {
    unloaded: {
      on: { LOAD: "loading" },
    },
    loading: {
      on: { LOADED: "warming", FAIL: fail },
    },
    warming: {
      on: { WARMED: "ready", FAIL: fail },
    },
    ready: {
      on: { SATURATE: "busy", FAIL: fail, DRAIN: "draining" },
    },
    busy: {
      on: { FREE: "ready", FAIL: fail, DRAIN: "draining" },
    },
    failed: {
      on: { RESTART: "unloaded" },
    },
    draining: {
      on: { DRAINED: "unloaded" },
    },
  },
});

export type LlmState = SnapshotFrom<typeof llmInstanceMachine>["value"];
