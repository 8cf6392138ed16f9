import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { InvalidArgumentError } from "commander";

/** What every scenario takes: the target, the driver, the workload and the client's bounds. */
export interface CommonOptions {
  url: string;
  spawn: boolean;
  driver: "http" | "nats";
  /** NATS server of the target (the NATS driver; `scaling --url` joins nodes to it). */
  nats?: string;
  /** Credentials of the target's `service` user, for the NATS driver (with --spawn: the ones the spawned colmena up prints). */
  natsCreds?: string;
  /** Credentials of the nodes `scaling --url` joins to the target's NATS (with --spawn: the ones the spawned colmena up prints). */
  nodeCreds?: string;
  namespace: string;
  apiKey?: string;
  /** A folder of markdown/text, or "generated". */
  corpus: string;
  /** Ingest the workload's documents before the run (default: with --spawn only). */
  preload?: boolean;
  seed: number;
  repeat: number;
  hotSet: number;
  sessions: number;
  topK?: number;
  maxInFlight: number;
  connections: number;
  timeoutMs: number;
  drainMs: number;
  out: string;
  /** Keep the documents a run ingested into a target it did not start. */
  keepDocuments: boolean;
}

/** "500ms", "10s", "2m", "1h", or a bare number of seconds → milliseconds. */
export function parseDuration(flag: string) {
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
    if (!m) throw new InvalidArgumentError(`${flag} must be a duration like 500ms, 10s, 2m, got ${JSON.stringify(v)}`);
    const n = Number(m[1]) * ({ ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
    if (!(n > 0)) throw new InvalidArgumentError(`${flag} must be more than zero, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function parseNumber(flag: string, min: number, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    const range = max === Infinity ? `at least ${min}` : `within ${min}–${max}`;
    if (v.trim() === "" || !Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number ${range}, got ${JSON.stringify(v)}`);
    return n;
  };
}

export function parseInteger(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  const num = parseNumber(flag, min, max);
  return (v: string): number => {
    const n = num(v);
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
}

/** "50:10s,100:10s" → constant-rate steps after the main phase. */
export function parseSteps(flag: string) {
  const duration = parseDuration(flag);
  const rate = parseNumber(flag, 0);
  return (v: string): Array<{ rate: number; durationMs: number }> =>
    v
      .split(",")
      .filter((s) => s.trim())
      .map((s) => {
        const [r, d] = s.split(":");
        if (r === undefined || d === undefined) throw new InvalidArgumentError(`${flag} takes rate:duration pairs like 50:10s,100:10s, got ${JSON.stringify(s)}`);
        return { rate: rate(r), durationMs: duration(d) };
      });
}

/** "1,2,4" → [1, 2, 4] */
export function parseSizes(flag: string) {
  const int = parseInteger(flag, 1, 64);
  return (v: string): number[] => {
    const sizes = v.split(",").map((s) => int(s.trim()));
    if (sizes.length === 0) throw new InvalidArgumentError(`${flag} needs at least one size`);
    return sizes;
  };
}

/** `../shared/corpus/nats-docs` from the working directory when it is there, else generated text. */
export function defaultCorpus(): string {
  const candidate = resolve("../shared/corpus/nats-docs");
  return existsSync(candidate) ? candidate : "generated";
}
