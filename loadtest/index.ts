/**
 * loadtest/: an open-loop load generator for Colmena's public interfaces
 * (HTTP and the NATS service API), its scenarios and reports. A client: it
 * loads nothing from the rest of the project (supervisors' Clock is a type).
 */
export { loadtestCommand } from "./command.js";
export { monotonicClock, sleep } from "./clock.js";
export { arrivals, phaseArrivals, scheduleDurationMs, type Arrival, type Phase } from "./schedule.js";
export { runOpenLoop, type Observation, type OpenLoopOptions, type OpenLoopResult } from "./generator.js";
export { LatencyHistogram, type LatencySummary } from "./histogram.js";
export { Recorder, type OpSummary, type PhaseSummary, type Window } from "./recorder.js";
export { answered, clientFailure, type Driver, type IngestBody, type Operation, type Outcome, type QueryBody, type Request } from "./drivers/driver.js";
export { HttpDriver, type HttpDriverOptions } from "./drivers/http.js";
export { NatsDriver, type NatsDriverOptions } from "./drivers/nats.js";
export { Workload, type WorkloadOptions } from "./workload/workload.js";
export { generatedSource } from "./workload/generated.js";
export { corpusSource } from "./workload/corpus.js";
export { seeded, type Random } from "./workload/random.js";
export type { WorkloadSource, SourceDocument } from "./workload/source.js";
export { findCapacity, type CapacityOptions, type CapacityResult, type CapacityStep } from "./capacity.js";
export { check, formatThreshold, type Threshold } from "./thresholds.js";
export { writeReports, reportChart, type WrittenReport } from "./report/write.js";
export { renderMarkdown } from "./report/markdown.js";
export { machine, gitRevision, type Machine } from "./report/machine.js";
export type { Report, Table, Marker } from "./report/report.js";
export { spawnUp, spawnNode, type Spawned, type SpawnedUp } from "./target/spawn.js";
export { ServerMonitor, fetchStatus, type MemorySample, type MemorySummary } from "./target/status.js";
