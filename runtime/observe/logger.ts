import { pino, type Logger, type LevelWithSilent } from "pino";
import { activeTrace } from "./tracing.js";

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  nodeId: string;
  /** Where JSON lines go; standard error by default, so standard output stays for command results. */
  destination?: NodeJS.WritableStream;
}

/**
 * The trace of the line being written, from OpenTelemetry's active context:
 * while tracing is on, every line written during a traced message or request
 * (by any logger, at any level) carries the span it was written under. With
 * tracing off there is no active context, and the call's and the request's
 * loggers carry the ids they were given instead. A new object every time:
 * pino merges each line's own fields into the one the mixin returns, so a
 * shared empty object gathered every field ever logged and wrote them on
 * every later line.
 */
function traceFields(): object {
  const trace = activeTrace();
  return trace === undefined ? {} : { trace_id: trace.traceId, span_id: trace.spanId };
}

/** The node's root logger: JSON lines with the node id on every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    { level: options.level, base: { node: options.nodeId }, timestamp: pino.stdTimeFunctions.isoTime, mixin: traceFields },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
