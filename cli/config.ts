import { z } from "zod";
import { PipelineConfigSchema, RetrievalConfigSchema } from "../actors/index.js";
import { CacheConfigSchema } from "../actors/index.js";
import { LlmConfigSchema } from "../actors/index.js";
import { SessionConfigSchema } from "../actors/index.js";
import { HttpBridgeOptionsSchema } from "../bridge/index.js";
import { loadConfig, RuntimeConfigSchema } from "../runtime/index.js";

export const ROLES = ["bridge", "embedder", "shard", "ingest", "query", "llm", "session"] as const;
export type Role = (typeof ROLES)[number];

/** Shard snapshots, the L3 cache and (for `colmena up`) the embedded nats-server's JetStream live here. */
const DataDirSchema = z.string().min(1).default(".colmena");

/**
 * Everything a Colmena node reads, in one schema: the runtime's sections plus
 * the RAG ones. File (--config), environment (COLMENA_SECTION__KEY) and flags
 * all go through it, once, before anything starts, so a bad value in any
 * section (retrieval's kinds included) stops start-up naming its key and
 * where it came from.
 */
export const ColmenaConfigSchema = z.preprocess(
  retrievalUnderDataDir,
  RuntimeConfigSchema.extend({
    roles: z.array(z.enum(ROLES)).min(1).default([...ROLES]),
    /**
     * Worker threads running the roles other than bridge, each a node of its
     * own on the same NATS (see cli/actor-thread.ts). Default: 1 when the node
     * has the bridge and other roles, so the bridge's thread stays free to
     * shed load; 0 runs every role on the main thread.
     */
    actorThreads: z.number().int().min(0).max(64).optional(),
    /** V8's young generation per actor thread, MiB: left to V8, a busy thread's grows well past this and is never given back. */
    actorThreadYoungGenerationMb: z.int().positive().max(1_024).default(16),
    dataDir: DataDirSchema,
    /** Where the bridge listens, and every option of the bridge itself (bridge/http/options.ts). */
    http: HttpBridgeOptionsSchema.extend({
      host: z.string().min(1).default("127.0.0.1"),
      port: z.int().min(0).max(65_535).default(8080),
      /** Lets the bridge listen beyond loopback with `auth.mode: none` (`--insecure`). */
      insecure: z.boolean().default(false),
    })
      // Anyone who reaches a non-loopback address could use an open bridge: that takes auth, or --insecure in so many words.
      .refine((http) => http.auth.mode !== "none" || http.insecure || isLoopback(http.host), {
        message: "the bridge would listen beyond loopback with no authentication: set http.auth.mode (keys, jwt or both), bind to 127.0.0.1, or start with --insecure",
        path: ["host"],
      })
      .prefault({}),
    /** Where a node without the bridge serves GET /metrics (a bridge serves its node's on its own port). */
    metrics: z
      .strictObject({ host: z.string().min(1).default("127.0.0.1"), port: z.int().min(0).max(65_535).default(9464) })
      .prefault({}),
    retrieval: RetrievalConfigSchema.prefault({}),
    llm: LlmConfigSchema.prefault({}),
    session: SessionConfigSchema.prefault({}),
    cache: CacheConfigSchema.prefault({}),
    pipeline: PipelineConfigSchema.prefault({}),
  }),
);

export type ColmenaConfig = z.output<typeof ColmenaConfigSchema>;

/** The flags of `colmena up` and `colmena node` that set config keys. */
export interface ConfigFlags {
  config?: string;
  dataDir?: string;
  port?: number;
  host?: string;
  namespace?: string;
  logLevel?: string;
  /** NATS server(s), comma-separated. */
  nats?: string;
  roles?: string[];
  /** `--creds FILE`: the NATS credentials (nats.auth of type creds). */
  creds?: string;
  /** `--insecure`: an unauthenticated bridge on a non-loopback address. */
  insecure?: boolean;
  /** `--set key=value`: any key, dotted as in the file, the value read as an environment variable's. */
  set?: Record<string, string>;
}

/** The node's config from its file, the `COLMENA_*` environment and its flags, each overriding the one before (`--set` last). */
export function nodeConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv): ColmenaConfig {
  return loadConfig(ColmenaConfigSchema, {
    ...(flags.config && { file: flags.config }),
    env,
    flags: {
      "http.port": flags.port,
      "http.host": flags.host,
      dataDir: flags.dataDir,
      namespace: flags.namespace,
      "log.level": flags.logLevel,
      "nats.servers": flags.nats?.split(","),
      roles: flags.roles,
      "http.insecure": flags.insecure,
      ...(flags.creds !== undefined && { "nats.auth": { type: "creds", credsFile: flags.creds } }),
      ...flags.set,
    },
  });
}

/**
 * The retrieval kinds keep their data under the node's dataDir unless
 * `retrieval.dataDir` says otherwise; the retrieval schema cannot see the
 * top level, so the raw config gets it before parsing (when it is valid:
 * a bad one is reported once, as `dataDir`).
 */
function retrievalUnderDataDir(raw: unknown): unknown {
  if (!isPlainObject(raw)) return raw;
  const retrieval = raw.retrieval ?? {};
  const dataDir = DataDirSchema.safeParse(raw.dataDir);
  if (!isPlainObject(retrieval) || retrieval.dataDir !== undefined || !dataDir.success) return raw;
  return { ...raw, retrieval: { ...retrieval, dataDir: dataDir.data } };
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host);

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
