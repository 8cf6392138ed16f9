// The public surface of supervisors/: generic OTP-style supervision.
export type { Backoff } from "./backoff.js";
export type { ChildSpec, FailureReporter, RunningChild } from "./child.js";
export type { ChildInfo, ChildStatus } from "./children.js";
export type { Clock, TimerHandle } from "./clock.js";
export { ManualClock, systemClock } from "./clock.js";
export type { Decider, Directive } from "./directive.js";
export type { SupervisorErrorCode } from "./errors.js";
export { EscalationError, isEscalationError, isSupervisorError, SupervisorError } from "./errors.js";
export type { SupervisorEvent } from "./events.js";
export type { Intensity } from "./intensity.js";
export { rootSupervisor } from "./root.js";
export type { Strategy } from "./strategy.js";
export type { SupervisorOptions } from "./supervisor.js";
export { Supervisor } from "./supervisor.js";
