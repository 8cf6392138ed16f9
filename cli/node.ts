import { basename, join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ActorRagApi, embedderModel, ensureShards, llmKind, pipelineActor, retrievalKinds, sessionKind, type RetrievalRole } from "../actors/index.js";
import { buildHttpBridge, startNatsService } from "../bridge/index.js";
import { ActorSystem, type Logger } from "../runtime/index.js";
import type { ColmenaConfig } from "./config.js";

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
export async function startNode(config: ColmenaConfig, options: { version: string; log: Logger }): Promise<RunningNode> {
  const { log, version } = options;
  const { retrieval, roles } = config;
  const llm = llmKind(config.llm);
  const session = sessionKind(config.session, config.llm.backend.type === "extractive" ? {} : { llm });
  const pipeline = pipelineActor({
    config: config.pipeline,
    cache: { ...config.cache, l3: { dir: join(config.dataDir, "cache"), ...config.cache.l3 } },
    llm,
    llmModel: llmModelId(config),
    session,
    sessionDefaults: config.session.settings,
  });
  const kinds = [
    ...retrievalKinds(retrieval, RETRIEVAL_ROLES.filter((r) => roles.includes(r))),
    ...(roles.includes("llm") ? [llm] : []),
    ...(roles.includes("session") ? [session, pipeline] : []),
  ];
  const system = await ActorSystem.start({ config, kinds, roles, version, log });
  const stops: Array<() => Promise<unknown>> = [() => system.shutdown()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.error({ err }, "stopping failed"));
  };
  try {
    if (roles.includes("shard")) for (const spec of retrieval.indexes) await ensureShards(system, spec);
    if (!roles.includes("bridge")) return { system, stop };

    const models = { embedder: await embedderModel(system), llm: llmModelId(config) };
    const api = new ActorRagApi({ system, indexes: retrieval.indexes, models, llm, readyWhenDegraded: config.pipeline.readyWhenDegraded });
    const { host, port, ...bridgeOptions } = config.http;
    const http: FastifyInstance = buildHttpBridge(api, { ...bridgeOptions, log });
    await http.listen({ host, port });
    stops.push(() => http.close());
    const service = await startNatsService(system.nc, api, { namespace: config.namespace, version, codec: system.codec, requestTimeoutMs: config.http.requestTimeoutMs, log });
    stops.push(() => service.stop());
    const address = http.server.address();
    const listening = typeof address === "object" && address ? address.port : port;
    return { system, httpUrl: `http://${host}:${listening}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function llmModelId(config: ColmenaConfig): string {
  const b = config.llm.backend;
  if (b.type === "onnx") return `onnx:${basename(b.modelDir)}`;
  if (b.type === "openai") return `openai:${b.model}`;
  return "extractive";
}
