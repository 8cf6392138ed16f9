import { pino, type Logger, type LevelWithSilent } from "pino";

export type { Logger };

export interface LoggerOptions {
  level: LevelWithSilent;
  nodeId: string;
  /** Where JSON lines go; standard error by default, so standard output stays for command results. */
  destination?: NodeJS.WritableStream;
}

/** The node's root logger: JSON lines with the node id on every line. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    { level: options.level, base: { node: options.nodeId }, timestamp: pino.stdTimeFunctions.isoTime },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
