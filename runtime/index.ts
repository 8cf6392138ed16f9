// The public surface of runtime/: actors, refs, the node's ActorSystem, config, logging, tracing.
export { defineActor } from "./actor-def.js";
export type { ActorContext, ActorDef, ActorKind, Behavior, CallContext, ChunkOf, MessageOf, MessageSchemas, Placement, Refs, ReplyOf } from "./actor-def.js";
export { ActorRef, type CallOptions } from "./actor-ref.js";
export type { ActorStream } from "./actor-stream.js";
export type { CellStats } from "./actor-cell.js";
export type { BackpressureState } from "./backpressure-machine.js";
export { backpressureMachine } from "./backpressure-machine.js";
export type { LifecycleState } from "./lifecycle-machine.js";
export { lifecycleMachine } from "./lifecycle-machine.js";
export { defaultNodeId, loadConfig, RuntimeConfigSchema, type ConfigSources, type RuntimeConfig } from "./config.js";
export { ColmenaError, ERROR_CODES, invalid, isColmenaError, overloaded, type ErrorCode, type WireError } from "./errors.js";
export { createLogger, type Logger } from "./logger.js";
export type { NodeInfo } from "./membership.js";
export { ActorSystem, type ActorSystemOptions, type KindStats } from "./system.js";
export { SLICE_MS, yieldIfSpent } from "./scheduler.js";
export { ScopedSignal } from "./scoped-signal.js";
export { zodIssues, type ZodIssuesOptions } from "./zod-issues.js";
export { childSpan, currentTrace, formatTraceparent, newTrace, parseTraceparent, type TraceContext } from "./trace.js";
