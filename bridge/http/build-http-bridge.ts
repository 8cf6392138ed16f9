import compress from "@fastify/compress";
import swagger from "@fastify/swagger";
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { Registry } from "prom-client";
import { mergedExposition, nodeMetrics } from "../../runtime/index.js";
import type { RagApi } from "../../actors/index.js";
import { ColmenaError } from "../../runtime/index.js";
import { MAX_PATH_PARAM_LENGTH } from "../shapes.js";
import { attachAccessControl } from "./access.js";
import { attachAdmission } from "./admission.js";
import { answerClientError, attachErrorHandling, errorAnswerer } from "./error-handler.js";
import { strictJsonBodies } from "./json-body.js";
import { attachMetrics } from "./metrics.js";
import { resolveOptions, type HttpBridgeConfig } from "./options.js";
import { attachRequestLog } from "./request-log.js";
import { attachScopes } from "./request-scope.js";
import { readTlsFiles } from "./tls.js";
import type { RouteContext } from "./routes/context.js";
import { documentRoutes } from "./routes/documents.js";
import { chatRoutes } from "./routes/openai-chat.js";
import { keyRoutes } from "./routes/keys.js";
import { embeddingRoutes } from "./routes/openai-embeddings.js";
import { modelRoutes } from "./routes/openai-models.js";
import { opsRoutes } from "./routes/ops.js";
import { queryRoutes } from "./routes/query.js";

/**
 * The HTTP bridge: Colmena's own API, the OpenAI-compatible one, and the
 * operational endpoints, on one fastify instance. Plugins load when the
 * caller listens (`await app.listen({ port, host })`) or calls `ready()`;
 * `await app.close()` stops it. Bad options throw INVALID naming the key.
 */
export function buildHttpBridge(api: RagApi, config: HttpBridgeConfig): FastifyInstance {
  const { log, metrics, threadMetrics, clusterSnapshots, clock, authenticator, bridges, audit, ...operatorOptions } = config;
  const options = resolveOptions(operatorOptions, clock);
  if ((options.auth.mode === "none") !== (authenticator === undefined)) {
    throw new ColmenaError("INVALID", `http.auth.mode ${options.auth.mode} ${authenticator === undefined ? "needs an authenticator (createAuthenticator)" : "takes no authenticator"}`);
  }
  const registry = metrics ?? new Registry();
  const answerError = errorAnswerer(log, options.bodyLimit);

  // The https server and the http one take the same routes; fastify's types tell them apart, the bridge need not.
  const app = Fastify({
    ...(options.tls && { https: readTlsFiles(options.tls) }),
    loggerInstance: log as FastifyBaseLogger,
    // One line per request, when it ends (request-log.ts), instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit,
    trustProxy: options.trustProxy,
    return503OnClosing: true,
    // The router's own errors and bytes that never became a request answer the one error contract too.
    frameworkErrors: answerError,
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    ajv: {
      // Requests are checked as sent: no type coercion, no silently dropped fields.
      customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: false, allowUnionTypes: true },
    },
  });
  // Response schemas document; JSON.stringify serializes (nothing a schema forgot is dropped).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  attachMetrics(app, registry);
  attachScopes(app, options.requestTimeoutMs);
  attachRequestLog(app);
  attachErrorHandling(app, answerError);
  attachAccessControl(app, options, { authenticator, bridges: bridges ?? (() => 1), audit });
  if (options.admission !== false) attachAdmission(app, options.admission);
  strictJsonBodies(app);

  void app.register(compress, { global: true, encodings: ["br", "gzip"] });
  void app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Colmena",
        version: "1",
        description: "Retrieval-augmented generation over an actor runtime. /v1/chat/completions, /v1/embeddings and /v1/models speak OpenAI's API.",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" }, apiKey: { type: "apiKey", in: "header", name: "X-API-Key" } } },
      ...(options.auth.mode !== "none" && { security: [{ bearer: [] }, { apiKey: [] }] }),
    },
  });

  // Routes go in after the plugins so that their onRoute hooks (compression, OpenAPI) see every one.
  const context: RouteContext = { api, options, log, startedAt: Math.floor(Date.now() / 1000) };
  void app.register(async (routes) => {
    documentRoutes(routes, context);
    queryRoutes(routes, context);
    chatRoutes(routes, context);
    embeddingRoutes(routes, context);
    modelRoutes(routes, context);
    const cluster = options.clusterMetrics ? clusterSnapshots : undefined;
    if (options.clusterMetrics && cluster === undefined) throw new ColmenaError("INVALID", "http.clusterMetrics needs a node to ask the cluster through");
    // The cluster's registries include this node's threads (each answers the scrape as a node of its own): not added again here.
    const exposition = cluster
      ? async () => mergedExposition([registry], (await cluster()).map((s) => () => Promise.resolve(s)))
      : () => mergedExposition([registry, nodeMetrics], threadMetrics ?? []);
    opsRoutes(routes, context, exposition);
    if (authenticator?.keys !== undefined) keyRoutes(routes, authenticator.keys, audit);
  });
  return app;
}
