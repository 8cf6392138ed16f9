import { setup } from "xstate";

/**
 * Lifecycle of one llm instance (see DESIGN.md):
 *
 *   unloaded → loading → warming → ready ⇄ busy → draining → stopped
 *   loading | warming | ready | busy → failed → (supervisor) RESTART → unloaded
 *
 * `busy` means every sequence slot is taken: the instance takes no more work
 * until one ends (FREE). A failure (model that will not load, a warm-up or
 * generation that crashes) moves it to `failed`; the kind's supervisor then
 * starts a new incarnation, which sends RESTART and loads again (on the CPU
 * when the device was what failed). The machine outlives incarnations of
 * the same instance, so `failed → unloaded` is visible in status.
 */
export type LlmLifecycleEvent =
  | { type: "LOAD" }
  | { type: "LOADED" }
  | { type: "WARMED" }
  | { type: "SATURATE" }
  | { type: "FREE" }
  | { type: "FAIL" }
  | { type: "RESTART" }
  | { type: "DRAIN" }
  | { type: "DRAINED" };

export const LLM_EVENTS: ReadonlyArray<LlmLifecycleEvent["type"]> = ["LOAD", "LOADED", "WARMED", "SATURATE", "FREE", "FAIL", "RESTART", "DRAIN", "DRAINED"];

export const llmLifecycleMachine = setup({
  types: { events: {} as LlmLifecycleEvent },
}).createMachine({
  id: "llm",
  initial: "unloaded",
  states: {
    unloaded: {
      on: { LOAD: "loading", DRAIN: "draining" },
    },
    loading: {
      on: { LOADED: "warming", FAIL: "failed", DRAIN: "draining" },
    },
    warming: {
      on: { WARMED: "ready", FAIL: "failed", DRAIN: "draining" },
    },
    ready: {
      on: { SATURATE: "busy", FAIL: "failed", DRAIN: "draining" },
    },
    busy: {
      on: { FREE: "ready", FAIL: "failed", DRAIN: "draining" },
    },
    failed: {
      on: { RESTART: "unloaded", DRAIN: "draining" },
    },
    draining: {
      on: { DRAINED: "stopped" },
    },
    stopped: { type: "final" },
  },
});

export type LlmState = "unloaded" | "loading" | "warming" | "ready" | "busy" | "failed" | "draining" | "stopped";
