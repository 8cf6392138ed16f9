import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import { ColmenaError, systemClock, zodIssues, type Clock, type MetricsSnapshot } from "../../runtime/index.js";
import { AuthOptionsSchema } from "../auth/auth-options.js";
import type { AuditLog } from "../auth/audit-log.js";
import type { Authenticator } from "../auth/authenticator.js";
import { TlsOptionsSchema } from "./tls.js";

/** A caller's limits; generated tokens are the answer's (see token-budget.ts). */
const PerMinuteSchema = z
  .strictObject({ requestsPerMinute: z.int().min(1).optional(), tokensPerMinute: z.int().min(1).optional() })
  .refine((l) => l.requestsPerMinute !== undefined || l.tokensPerMinute !== undefined, { message: "set requestsPerMinute, tokensPerMinute or both" });

const ADMISSION_DEFAULTS = { initialLimit: 16, minLimit: 4, maxLimit: 1_000, tolerance: 1.5 };

/**
 * What an operator can set on the HTTP bridge, every field with a default:
 * the one schema of these options, which `colmena`'s config uses as its
 * `http` section, so a file, the environment and flags reach all of them.
 * Strict, so a misspelt option is refused rather than ignored.
 */
export const HttpBridgeOptionsSchema = z.strictObject({
  /** Largest request body in bytes; larger ones are answered 413. */
  bodyLimit: z.int().min(1024).default(1024 * 1024),
  /**
   * Deadline of one request in ms, a streamed answer included. It is the
   * deadline of the request's call scope, which the RagApi carries to every
   * actor behind it; past it the scope's signal aborts (a streamed answer
   * stops its producers; work still queued behind it is dropped by its
   * deadline) and the answer is 504 (or an `error` event mid-stream).
   */
  requestTimeoutMs: z.int().min(1).max(3_600_000).default(60_000),
  /** Who may call /v1/* (API-key records, JWTs, both, or anyone): see bridge/auth. */
  auth: AuthOptionsSchema.prefault({}),
  /**
   * Requests and generated tokens per minute on /v1/*, per caller: per key id or JWT subject by
   * its tier (`default` for a tier not listed), per client IP for callers
   * without credentials; off when absent. The limit holds for the cluster:
   * each bridge node enforces its share (the limit over the bridges in the
   * membership).
   */
  rateLimit: z
    .strictObject({
      anonymous: PerMinuteSchema.optional(),
      tiers: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "tier names are letters, digits, _ and -"), PerMinuteSchema).default({}),
      maxClients: z.int().min(1).default(10_000),
    })
    .optional(),
  /** Load shedding on POST /v1/*: an adaptive concurrency limit (see adaptive-limit.ts); `false` turns it off. */
  admission: z
    .union([
      z.literal(false),
      z.strictObject({
        initialLimit: z.int().min(1).default(ADMISSION_DEFAULTS.initialLimit),
        minLimit: z.int().min(1).default(ADMISSION_DEFAULTS.minLimit),
        maxLimit: z.int().min(1).default(ADMISSION_DEFAULTS.maxLimit),
        tolerance: z.number().min(1).default(ADMISSION_DEFAULTS.tolerance),
      }),
    ])
    .default(ADMISSION_DEFAULTS),
  /** Comment lines on event streams this often (ms), so idle proxies keep them open; 0: none. */
  sseHeartbeatMs: z.int().min(0).default(15_000),
  /**
   * What GET /metrics shows: this node (the bridge's thread and the node's
   * actor threads; the default), or with `true` the whole cluster's figures,
   * every node's registry asked over NATS at each scrape and added up (the
   * bridge's own HTTP families beside them). One Prometheus job can then
   * read a cluster through one bridge; scrape such a bridge and the nodes
   * themselves and the figures count twice.
   */
  clusterMetrics: z.boolean().default(false),
  /** Fastify's trustProxy: whether client IPs (for the rate limit and the audit) come from X-Forwarded-For. */
  trustProxy: z.union([z.boolean(), z.string(), z.array(z.string())]).default(false),
  /** HTTPS from certificate files (see tls.ts); absent: plain HTTP. */
  tls: TlsOptionsSchema.optional(),
});

export type HttpBridgeOptions = z.input<typeof HttpBridgeOptionsSchema>;

/**
 * What the bridge is built with: options plus its logger, the registry to add
 * its metrics to, the figures of the node's actor threads (one read per
 * thread, at each scrape), the clock of the rate limiter and of key expiry,
 * the authenticator `auth.mode` needs (createAuthenticator), how many bridge
 * nodes share the rate limits (default 1), the audit stream to record
 * access to (AuditLog.open; none: no audit), and where `clusterMetrics` asks
 * the cluster's registries.
 */
export type HttpBridgeConfig = HttpBridgeOptions & {
  log: Logger;
  metrics?: Registry;
  threadMetrics?: Array<() => Promise<MetricsSnapshot>>;
  clusterSnapshots?: () => Promise<MetricsSnapshot[]>;
  clock?: Clock;
  authenticator?: Authenticator;
  bridges?: () => number;
  audit?: AuditLog;
};

export type ResolvedHttpOptions = z.output<typeof HttpBridgeOptionsSchema> & { clock: Clock };

/** Validates the options once (a bad one stops start-up, naming the key) and freezes them. */
export function resolveOptions(options: HttpBridgeOptions, clock: Clock = systemClock): Readonly<ResolvedHttpOptions> {
  const parsed = HttpBridgeOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new ColmenaError("INVALID", `bad bridge options: ${zodIssues(parsed.error, { prefix: "http" }).join("; ")}`);
  }
  return Object.freeze({ ...parsed.data, clock });
}
