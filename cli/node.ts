import { basename, join } from "node:path";
import type { FastifyInstance } from "fastify";
import { ActorRagApi, AnswerCache, ensureShards, IndexVersion, llmKind, RagPipeline, retrievalKinds, sessionKind, type RetrievalRole } from "../actors/index.js";
import { buildHttpBridge, startNatsService } from "../bridge/index.js";
import { ActorSystem, type Logger } from "../runtime/index.js";
import { retrievalConfig, type ColmenaConfig } from "./config.js";

export interface RunningNode {
  system: ActorSystem;
  /** Where the HTTP bridge listens, when this node has the bridge role. */
  httpUrl?: string;
  stop(): Promise<void>;
}

const RETRIEVAL_ROLES: readonly RetrievalRole[] = ["embedder", "shard", "ingest", "query"];

/** Starts one Colmena node: the actor kinds of its roles, and with `bridge` the pipeline, HTTP bridge and NATS service API. */
export async function startNode(config: ColmenaConfig, options: { version: string; log: Logger }): Promise<RunningNode> {
  const { log, version } = options;
  const retrieval = retrievalConfig(config);
  const roles = config.roles;
  const llm = llmKind(config.llm);
  const session = sessionKind(config.session, config.llm.backend.type === "extractive" ? {} : { llm });
  const kinds = [
    ...retrievalKinds(retrieval, RETRIEVAL_ROLES.filter((r) => roles.includes(r))),
    ...(roles.includes("llm") ? [llm] : []),
    ...(roles.includes("session") ? [session] : []),
  ];
  const system = await ActorSystem.start({ config, kinds, roles, version, log });
  const stops: Array<() => Promise<unknown>> = [() => system.shutdown()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => log.error({ err }, "stopping failed"));
  };
  try {
    if (roles.includes("shard")) for (const spec of retrieval.indexes) await ensureShards(system, spec);
    if (!roles.includes("bridge")) return { system, stop };

    const cache = await AnswerCache.open({ ...config.cache, l3: { dir: join(config.dataDir, "cache"), ...config.cache.l3 }, nc: system.nc, namespace: config.namespace, codec: system.codec, warn: (msg: string, fields: Record<string, unknown>) => log.warn(fields, msg) });
    const models = { embedder: await ActorRagApi.embedderModel(system, config.pipeline.timeoutMs), llm: llmModelId(config) };
    const indexVersion = await IndexVersion.start(system.nc, system.subjects, { log });
    stops.push(() => indexVersion.stop());
    const pipeline = new RagPipeline({ system, cache, version: indexVersion, llm, session, sessionDefaults: config.session.settings, models, defaults: config.pipeline, log });
    const api = new ActorRagApi({ system, pipeline, cache, indexes: retrieval.indexes, models, timeoutMs: config.pipeline.timeoutMs });
    const http: FastifyInstance = buildHttpBridge(api, { ...config.http, log });
    await http.listen({ host: config.http.host, port: config.http.port });
    stops.push(() => http.close());
    const service = await startNatsService(system.nc, api, { namespace: config.namespace, version, codec: system.codec, log });
    stops.push(() => service.stop());
    void warm(cache, api, config, log);
    const address = http.server.address();
    const port = typeof address === "object" && address ? address.port : config.http.port;
    return { system, httpUrl: `http://${config.http.host}:${port}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Fills L1 from L2 and answers the FAQ, so the first users hit the cache. */
async function warm(cache: AnswerCache, api: ActorRagApi, config: ColmenaConfig, log: Logger): Promise<void> {
  try {
    const filled = await cache.fillL1FromL2();
    const questions = config.pipeline.faqFile ? await cache.warm(config.pipeline.faqFile) : [];
    for (const question of questions) await api.query({ question });
    if (filled || questions.length) log.info({ l1FromL2: filled, faq: questions.length }, "cache warmed");
  } catch (err) {
    log.warn({ err }, "cache warming failed");
  }
}

function llmModelId(config: ColmenaConfig): string {
  const b = config.llm.backend;
  if (b.type === "onnx") return `onnx:${basename(b.modelDir)}`;
  if (b.type === "openai") return `openai:${b.model}`;
  return "extractive";
}
