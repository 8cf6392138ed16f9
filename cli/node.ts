import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ActorRagApi, embedderModel, ensureShards, keepShardsUp, llmKind, llmModelId, pipelineActor, retrievalKinds, sessionKind, type RetrievalRole } from "../actors/index.js";
import { AuditLog, auditsAccess, buildHttpBridge, createAuthenticator, startNatsService } from "../bridge/index.js";
import { ActorSystem, isColmenaError, sleep, type ActorSystemOptions, type AnyHosted, type Logger, type MetricsSnapshot } from "../runtime/index.js";
import type { ColmenaConfig, Role } from "./config.js";

export interface RunningNode {
  system: ActorSystem;
  /** Where the HTTP bridge listens, when this node has the bridge role. */
  httpUrl?: string;
  stop(): Promise<void>;
}

const RETRIEVAL_ROLES: readonly RetrievalRole[] = ["embedder", "shard", "ingest", "query"];

/**
 * Starts one Colmena node: the actor kinds of its roles (`session` hosts the
 * session actors and the pipeline that runs each question), and with
 * `bridge` the HTTP bridge and the NATS service API.
 */
export async function startNode(
  config: ColmenaConfig,
  options: { version: string; log: Logger; threadMetrics?: Array<() => Promise<MetricsSnapshot>> } & Pick<ActorSystemOptions, "threadLinks" | "servePort">,
): Promise<RunningNode> {
  const { log, version, threadLinks, servePort } = options;
  const { roles } = config;
  const kinds = kindsOf(config, roles);
  const system = await ActorSystem.start({ config, kinds, roles, version, log, ...(threadLinks && { threadLinks }), ...(servePort && { servePort }) });
  const stops: Array<() => Promise<unknown>> = [() => system.shutdown()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.error({ err }, "stopping failed"));
  };
  try {
    if (roles.includes("shard")) {
      for (const spec of config.retrieval.indexes) await ensureShards(system, spec);
      const stopKeeping = keepShardsUp(system, config.retrieval.indexes, log);
      stops.push(async () => stopKeeping());
    }
    if (!roles.includes("bridge")) return { system, stop };

    const embedder = await firstEmbedder(system, log);
    const llm = llmModelId(config.llm.backend);
    const models = {
      embedder,
      llm,
      embedders: [embedder, ...config.retrieval.embedder.models.map((m) => m.id)],
      llms: [llm, ...config.llm.models.map((m) => m.id)],
    };
    const api = new ActorRagApi({ system, indexes: config.retrieval.indexes, models, readyWhenDegraded: config.pipeline.readyWhenDegraded });
    const { host, port, insecure, ...bridgeOptions } = config.http;
    const authenticator = await createAuthenticator(bridgeOptions.auth, { nc: system.nc, namespace: config.namespace, log, clock: system.clock });
    if (authenticator) stops.push(async () => authenticator.stop());
    const audit = auditsAccess(bridgeOptions.auth) ? await AuditLog.open(system.nc, config.namespace, bridgeOptions.auth.audit, log, system.nodeId) : undefined;
    // Each bridge enforces its share of every rate limit: the limit over the bridges alive in the membership.
    const bridges = () => system.membership.nodes().filter((n) => n.roles.includes("bridge")).length;
    const http: FastifyInstance = buildHttpBridge(api, {
      ...bridgeOptions,
      log,
      clock: system.clock,
      bridges,
      ...(authenticator && { authenticator }),
      ...(audit && { audit }),
      ...(options.threadMetrics && { threadMetrics: options.threadMetrics }),
      clusterSnapshots: () => system.clusterMetrics(),
    });
    await http.listen({ host, port });
    stops.push(() => http.close());
    const service = await startNatsService(system.nc, api, { namespace: config.namespace, version, codec: system.codec, requestTimeoutMs: config.http.requestTimeoutMs, log });
    stops.push(() => service.stop());
    const address = http.server.address();
    const listening = typeof address === "object" && address ? address.port : port;
    return { system, httpUrl: `${config.http.tls ? "https" : "http"}://${host}:${listening}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The actor kinds a node with these roles hosts (`session` hosts the session actors and the pipeline); also what NATS permissions are cut from. */
export function kindsOf(config: ColmenaConfig, roles: readonly Role[]): AnyHosted[] {
  const llm = llmKind(config.llm);
  const session = sessionKind(config.session, config.llm.backend.type === "extractive" ? {} : { llm });
  const pipeline = pipelineActor({
    config: config.pipeline,
    cache: { ...config.cache, l3: { dir: join(config.dataDir, "cache"), ...config.cache.l3 } },
    llm,
    llmModel: llmModelId(config.llm.backend),
    session,
    sessionDefaults: config.session.settings,
  });
  return [
    ...retrievalKinds(config.retrieval, RETRIEVAL_ROLES.filter((r) => roles.includes(r))),
    ...(roles.includes("llm") ? [llm] : []),
    ...(roles.includes("session") ? [session, pipeline] : []),
  ];
}

/** How long a bridge waits at start for an embedder to name its model: its groups may start in any order under Nomad. */
const EMBEDDER_WAIT_MS = 120_000;

/** The embedder's model, once one answers; a bridge started before any embedder is up (UNAVAILABLE, or OVERLOADED while it starts) waits, within EMBEDDER_WAIT_MS. */
async function firstEmbedder(system: ActorSystem, log: Logger): Promise<string> {
  const until = system.clock.now() + EMBEDDER_WAIT_MS;
  for (let logged = false; ; logged = true) {
    try {
      return await embedderModel(system);
    } catch (err) {
      if (!isColmenaError(err) || !err.retryable || system.clock.now() >= until) throw err;
      if (!logged) log.info("waiting for an embedder to start");
      await sleep(system.clock, err.retryAfterMs ?? 1_000);
    }
  }
}

