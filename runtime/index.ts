// The public surface of runtime/: the actor contract, the node's ActorSystem, config, logging, tracing and time.
export type { ActorAddress, ChunkOf, HandledMessage, MessageOf, MessageSchemas, Placement, ReplyOf } from "./contract/address.js";
export { actorAddress, type Behavior } from "./contract/behavior.js";
export type { CallContext } from "./contract/call.js";
export type { CallOptions, CallScope } from "./contract/scope.js";
export type { ActorContext } from "./contract/context.js";
export { ColmenaError, ERROR_CODES, invalid, isColmenaError, isTypedError, overloaded, type ErrorCode, type ErrorOptions, type WireError } from "./contract/errors.js";
export { zodIssues, type ZodIssuesOptions } from "./contract/zod-issues.js";
export { defineActor, hostActor, type AnyHosted, type HostedKind, type HostingProps, type KindStores } from "./contract/hosting.js";
export type { DurableEntry, DurableIntake, DurableSource } from "./contract/intake.js";
export type { ActorRef, Refs } from "./contract/refs.js";
export type { BackpressureState, CellStats, Faults, KindStats, LifecycleState, NodeActors } from "./contract/stats.js";
export type { ActorStream } from "./contract/stream.js";
export type { Bucket, BucketOptions, Log, LogHead, LogSpec, LogState, Storage } from "./contract/storage.js";
export { ActorKeySchema, inboxPrefix, MAX_ACTOR_KEY_LENGTH, MAX_KEY_LENGTH, NODE_BUCKETS, stateBucket, Subjects, subjectToken } from "./contract/subjects.js";
export { backpressureMachine } from "./cell/backpressure-machine.js";
export { lifecycleMachine } from "./cell/lifecycle-machine.js";
export { SLICE_MS, yieldIfSpent } from "./cell/scheduler.js";
export type { NodeInfo } from "./cluster/membership.js";
export { NatsStorage } from "./cluster/nats-storage.js";
export { defaultNodeId, loadConfig, RuntimeConfigSchema, type ConfigSources, type RuntimeConfig } from "./config.js";
export { createLogger, type Logger } from "./observe/logger.js";
export { DURATION_BUCKETS, mergedExposition, nodeMetrics, timeStage, type MetricsSnapshot } from "./observe/metrics.js";
export { childSpan, formatTraceparent, newTrace, parseTraceparent, type TraceContext } from "./observe/trace.js";
export { ActorSystem, type ActorSystemOptions } from "./system.js";
export { sleep } from "./time/deadline.js";
export { ScopedSignal } from "./time/scoped-signal.js";
// Time is injected through one Clock, defined with the supervisors (the lowest layer that waits) and offered here.
export { ManualClock, systemClock, type Clock, type TimerHandle } from "../supervisors/index.js";
