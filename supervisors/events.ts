import type { Directive } from "./directive.js";
import type { EscalationError } from "./errors.js";

/** What a supervisor tells its caller's `onEvent` (for logging and metrics). */
export type SupervisorEvent =
  | { type: "child-started"; id: string }
  | { type: "child-failed"; id: string; error: unknown; directive: Directive }
  | { type: "child-restarting"; id: string; delayMs: number; attempt: number }
  | { type: "child-stopped"; id: string; reason: string; error?: unknown }
  | { type: "escalated"; error: EscalationError };
