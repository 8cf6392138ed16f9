import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { z } from "zod";
import { ColmenaError } from "./contract/errors.js";
import { zodIssues } from "./contract/zod-issues.js";

const name = z.string().regex(/^[A-Za-z0-9_-]+$/, "only letters, digits, _ and -");

const auth = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("none") }),
  z.strictObject({ type: z.literal("token"), token: z.string().min(1) }),
  z.strictObject({ type: z.literal("user"), user: z.string().min(1), pass: z.string() }),
  z.strictObject({ type: z.literal("nkey"), seedFile: z.string().min(1) }),
  z.strictObject({ type: z.literal("creds"), credsFile: z.string().min(1) }),
]);

/** The runtime's own settings; upper layers extend this schema with their sections. */
export const RuntimeConfigSchema = z.strictObject({
  namespace: name.default("colmena"),
  nodeId: name.optional(),
  log: z.strictObject({ level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info") }).prefault({}),
  nats: z
    .strictObject({
      servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).default("nats://127.0.0.1:4222"),
      auth: auth.default({ type: "none" }),
      tls: z.strictObject({ caFile: z.string().optional(), certFile: z.string().optional(), keyFile: z.string().optional() }).optional(),
      maxReconnectAttempts: z.number().int().min(-1).default(-1),
      reconnectTimeWaitMs: z.number().int().positive().default(1_000),
      reconnectJitterMs: z.number().int().min(0).default(500),
      maxPayload: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024 - 4096),
      /** Copies of every stream and bucket the node creates: auto is 3 on a cluster of 3 or more servers, else 1. */
      replicas: z.union([z.literal("auto"), z.number().int().min(1).max(5)]).default("auto"),
    })
    .prefault({}),
  runtime: z
    .strictObject({
      askTimeoutMs: z.number().int().positive().default(10_000),
      shutdownGraceMs: z.number().int().min(0).default(10_000),
      heartbeatMs: z.number().int().positive().default(2_000),
      /**
       * A node that cannot heartbeat for this long fences itself (membership.ts). It outlasts a JetStream
       * leader election of the members bucket on a cluster (a follower waits 4-9 s for a lost leader before
       * it campaigns, nats-server's raft.go), which would otherwise fence every node at once when a server dies.
       */
      leaseMs: z.number().int().positive().default(15_000),
      streamCredit: z.number().int().min(1).max(10_000).default(32),
    })
    .prefault({})
    .refine((r) => r.leaseMs >= 2 * r.heartbeatMs, { message: "leaseMs must be at least twice heartbeatMs", path: ["leaseMs"] }),
});

export type RuntimeConfig = z.infer<typeof RuntimeConfigSchema>;

export interface ConfigSources {
  /** A JSON config file. */
  file?: string;
  /** Environment: COLMENA_<SECTION>__<KEY> in upper snake case, e.g. COLMENA_NATS__SERVERS, COLMENA_LOG__LEVEL. */
  env?: NodeJS.ProcessEnv;
  /** Flags as dotted paths, e.g. { "nats.servers": "nats://..." }; values already typed or strings. */
  flags?: Record<string, unknown>;
}

const ENV_PREFIX = "COLMENA_";

/**
 * Reads file, environment and flags (later wins), validates them once against
 * the schema and returns a frozen config. A bad value stops start-up with an
 * error that names the key and where it came from.
 */
export function loadConfig<S extends z.ZodType>(schema: S, sources: ConfigSources = {}): Readonly<z.infer<S>> {
  const merged: Record<string, unknown> = {};
  const origin = new Map<string, string>();
  if (sources.file) mergeTree(merged, readJson(sources.file), `file ${sources.file}`, origin);
  for (const [key, raw] of Object.entries(sources.env ?? {})) {
    if (!key.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = key.slice(ENV_PREFIX.length).split("__").map(snakeToCamel);
    setPath(merged, path, parseScalar(raw), `env ${key}`, origin);
  }
  for (const [key, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, key.split("."), typeof value === "string" ? parseScalar(value) : value, `flag --${key}`, origin);
  }

  const parsed = schema.safeParse(merged);
  if (!parsed.success) {
    const lines = zodIssues(parsed.error, { origin: (key) => originOf(key, origin) });
    throw new ColmenaError("INVALID", ["invalid configuration:", ...lines].join("\n  "), { details: { issues: parsed.error.issues } });
  }
  return deepFreeze(parsed.data) as Readonly<z.infer<S>>;
}

/** A node id that is unique per process: host, pid and a random suffix. */
export function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, "-").slice(0, 24);
  return `${host}-${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
}

/** Where the value at `path` came from: its own origin, else the nearest key above it that has one. */
function originOf(path: string, origin: Map<string, string>): string | undefined {
  for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
    const o = origin.get(p);
    if (o) return o;
  }
  return undefined;
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new ColmenaError("INVALID", `cannot read config file ${file}: ${(cause as Error).message}`, { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new ColmenaError("INVALID", `config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

function mergeTree(target: Record<string, unknown>, tree: unknown, source: string, origin: Map<string, string>, prefix: string[] = []): void {
  if (!isPlainObject(tree)) throw new ColmenaError("INVALID", `${source}: expected a JSON object at ${prefix.join(".") || "the top level"}`);
  for (const [key, value] of Object.entries(tree)) {
    if (isPlainObject(value)) mergeTree(target, value, source, origin, [...prefix, key]);
    else setPath(target, [...prefix, key], value, source, origin);
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown, source: string, origin: Map<string, string>): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
  origin.set(path.join("."), source);
}

/** Strings from env and flags: JSON scalars and arrays when they parse as such, else the string itself. */
function parseScalar(raw: string): unknown {
  const t = raw.trim();
  if (/^(-?\d+(\.\d+)?|true|false|null|\[.*\]|\{.*\})$/s.test(t)) {
    try {
      return JSON.parse(t);
    } catch {
      return raw;
    }
  }
  return raw;
}

const snakeToCamel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
