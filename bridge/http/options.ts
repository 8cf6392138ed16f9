import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import { ColmenaError, systemClock, zodIssues, type Clock } from "../../runtime/index.js";

/** What an operator can set on the HTTP bridge. Every field has a default. */
export interface HttpBridgeOptions {
  /** Largest request body in bytes; larger ones are answered 413. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Deadline of one request in ms, a streamed answer included. The RagApi
   * gets what is left of it as `timeoutMs`; past it the work is cancelled
   * and the answer is 504 (or an `error` event mid-stream). Default 60 000.
   */
  requestTimeoutMs?: number;
  /** When given, every /v1/* request needs one of these keys. */
  apiKeys?: string[];
  /** A token bucket per client (its API key, else its IP) on /v1/*; off when absent. */
  rateLimit?: { capacity: number; refillPerSecond: number; maxClients?: number };
  /** Load shedding on POST /v1/*: an adaptive concurrency limit (see adaptive-limit.ts); `false` turns it off. */
  admission?: false | { initialLimit?: number; minLimit?: number; maxLimit?: number; tolerance?: number };
  /** Comment lines on event streams this often, so idle proxies keep them open; 0: none. Default 15 000. */
  sseHeartbeatMs?: number;
  /** Fastify's trustProxy: whether client IPs (for the rate limit) come from X-Forwarded-For. Default false. */
  trustProxy?: boolean | string | string[];
  /** The rate limiter's time. Default the system clock. */
  clock?: Clock;
}

/** What the bridge is built with: options plus its logger and, optionally, the registry to add its metrics to. */
export type HttpBridgeConfig = HttpBridgeOptions & { log: Logger; metrics?: Registry };

const OptionsSchema = z.object({
  bodyLimit: z.int().min(1024).default(1024 * 1024),
  requestTimeoutMs: z.int().min(1).max(3_600_000).default(60_000),
  apiKeys: z.array(z.string().min(8, "API keys must have at least 8 characters")).min(1).optional(),
  rateLimit: z
    .object({ capacity: z.number().min(1), refillPerSecond: z.number().positive(), maxClients: z.int().min(1).optional() })
    .optional(),
  admission: z
    .union([
      z.literal(false),
      z.object({
        initialLimit: z.int().min(1).default(16),
        minLimit: z.int().min(1).default(4),
        maxLimit: z.int().min(1).default(1_000),
        tolerance: z.number().min(1).default(1.5),
      }),
    ])
    .default({ initialLimit: 16, minLimit: 4, maxLimit: 1_000, tolerance: 1.5 }),
  sseHeartbeatMs: z.int().min(0).default(15_000),
  trustProxy: z.union([z.boolean(), z.string(), z.array(z.string())]).default(false),
});

export type ResolvedHttpOptions = z.infer<typeof OptionsSchema> & { clock: Clock };

/** Validates the options once (a bad one stops start-up, naming the key) and freezes them. */
export function resolveOptions(options: HttpBridgeOptions): Readonly<ResolvedHttpOptions> {
  const { clock, ...rest } = options;
  const parsed = OptionsSchema.safeParse(rest);
  if (!parsed.success) {
    throw new ColmenaError("INVALID", `bad bridge options: ${zodIssues(parsed.error, { prefix: "http" }).join("; ")}`);
  }
  return Object.freeze({ ...parsed.data, clock: clock ?? systemClock });
}
