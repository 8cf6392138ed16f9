/**
 * The one place the OpenTelemetry SDK is set up (the runtime and the actors
 * depend on `@opentelemetry/api` only): traces, configured by the standard
 * `OTEL_*` environment variables and nothing else — `OTEL_TRACES_EXPORTER`,
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`),
 * `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, `http/json` or `grpc`),
 * `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`
 * (and `_ARG`), `OTEL_BSP_*`. Each thread of a node (the bridge's, each
 * actor thread) has its own SDK, as a worker has its own module instances;
 * all export to the same endpoint, under the same trace ids.
 *
 * Tracing is off unless an exporter or an endpoint is named: the SDK is not
 * even loaded then, and the runtime makes no spans (runtime/observe/tracing.ts).
 * Metrics stay Prometheus's and logs stay pino's JSON lines: the SDK is given
 * no metric reader and no log processor, whatever its defaults would be.
 *
 * `@opentelemetry/sdk-node` is pinned to the 0.223 line (core 2.12): 0.300
 * and later need Node >= 22.15, this project runs on Node 20.
 */
import type { tracing } from "@opentelemetry/sdk-node";
import { enableTracing, disableTracing } from "../runtime/index.js";
import { StartupMistake } from "./startup-check.js";

export interface Telemetry {
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** The node (or actor thread) id: the resource's `service.instance.id`. */
  nodeId: string;
  version: string;
  /** Instead of the exporters the environment names (tests: an in-memory exporter). */
  spanProcessors?: tracing.SpanProcessor[];
}

const PROTOCOLS = new Set(["http/protobuf", "http/json", "grpc"]);
const EXPORTERS = new Set(["otlp", "console", "zipkin", "none"]);
const SAMPLERS = new Set(["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"]);

/** Whether the environment asks for traces: an exporter other than none, or an OTLP endpoint, and the SDK not disabled. */
export function tracesRequested(env: NodeJS.ProcessEnv): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return false;
  const exporters = list(env.OTEL_TRACES_EXPORTER);
  if (exporters.length > 0) return !exporters.includes("none");
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/** A value the SDK would only warn about and ignore stops start-up instead, naming the variable (exit 2). */
export function checkTraceEnv(env: NodeJS.ProcessEnv): void {
  for (const e of list(env.OTEL_TRACES_EXPORTER)) {
    if (!EXPORTERS.has(e)) throw new StartupMistake(`OTEL_TRACES_EXPORTER: ${JSON.stringify(e)} is not one of ${[...EXPORTERS].join(", ")}`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]) {
    const v = env[name]?.trim();
    if (v && !PROTOCOLS.has(v)) throw new StartupMistake(`${name}: ${JSON.stringify(v)} is not one of ${[...PROTOCOLS].join(", ")}`);
  }
  const sampler = env.OTEL_TRACES_SAMPLER?.trim();
  if (sampler && !SAMPLERS.has(sampler)) throw new StartupMistake(`OTEL_TRACES_SAMPLER: ${JSON.stringify(sampler)} is not one of ${[...SAMPLERS].join(", ")}`);
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  if (arg && sampler?.endsWith("traceidratio") && !(Number(arg) >= 0 && Number(arg) <= 1)) {
    throw new StartupMistake(`OTEL_TRACES_SAMPLER_ARG: ${JSON.stringify(arg)} is not a ratio between 0 and 1`);
  }
  for (const name of ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]) {
    const v = env[name]?.trim();
    if (v && !URL.canParse(v)) throw new StartupMistake(`${name}: ${JSON.stringify(v)} is not a URL`);
  }
}

/** Starts the SDK when the environment asks for traces (or `spanProcessors` are given); undefined, and nothing loaded, otherwise. */
export async function startTelemetry(env: NodeJS.ProcessEnv, options: TelemetryOptions): Promise<Telemetry | undefined> {
  if (options.spanProcessors === undefined) {
    checkTraceEnv(env);
    if (!tracesRequested(env)) return undefined;
  }
  const { NodeSDK, resources } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({
    // Defaults under what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES say (the detected resource is merged over this one).
    resource: resources.defaultResource().merge(resources.resourceFromAttributes({ "service.name": "colmena", "service.version": options.version, "service.instance.id": options.nodeId })),
    ...(options.spanProcessors && { spanProcessors: options.spanProcessors }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  enableTracing();
  return {
    shutdown: async () => {
      disableTracing();
      await sdk.shutdown();
    },
  };
}

function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0 && s !== "null");
}
