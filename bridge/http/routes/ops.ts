import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { NO_QUERY, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import type { RouteContext } from "./context.js";

const ReadyShape = z.object({
  ready: z.boolean(),
  checks: z.record(z.string(), z.boolean()).describe("each dependency: nats, jetstream, every required pool, shards:<index>, llm-engine"),
  missing: z.array(z.string()).describe("what keeps the node from being ready, one line per failed check"),
  degraded: z.array(z.string()).describe("failed checks served through anyway (an llm that is down: extractive answers)"),
});

/** Liveness, readiness, Prometheus metrics and the OpenAPI document (outside /v1, never behind API keys), and the system's status. */
export function opsRoutes(app: FastifyInstance, { api, log }: RouteContext, exposition: () => Promise<{ contentType: string; text: string }>): void {
  app.get(
    "/health",
    { schema: { summary: "Liveness: the process serves HTTP", tags: ["ops"], security: [], querystring: NO_QUERY, response: { 200: responseSchema(z.object({ status: z.literal("ok") })) } } },
    async () => ({ status: "ok" }),
  );

  app.get(
    "/ready",
    {
      schema: {
        summary: "Readiness: NATS, JetStream, every required actor pool, each index's shard replicas and the llm engine",
        tags: ["ops"],
        security: [],
        querystring: NO_QUERY,
        response: { 200: responseSchema(ReadyShape), 503: responseSchema(ReadyShape) },
      },
    },
    async (request, reply) => {
      try {
        const report = await scopeOf(request).guard(api.ready());
        return reply.code(report.ready ? 200 : 503).send(report);
      } catch (err) {
        log.warn({ err }, "readiness check failed");
        return reply.code(503).send({ ready: false, checks: {}, missing: [`readiness: ${(err as Error).message}`], degraded: [] });
      }
    },
  );

  app.get(
    "/metrics",
    { schema: { summary: "Prometheus metrics", tags: ["ops"], security: [], querystring: NO_QUERY, response: { 200: { description: "Prometheus text format", type: "string" } } } },
    async (_request, reply) => {
      const { contentType, text } = await exposition();
      return reply.header("content-type", contentType).send(text);
    },
  );

  app.get(
    "/v1/status",
    {
      schema: {
        summary: "What the system knows about itself: nodes, actor kinds and activations with their states, mailbox depths, cache hit rates",
        description: "The RagApi's status as is (what `colmena status` prints); behind the API keys like the rest of /v1.",
        tags: ["ops"],
        querystring: NO_QUERY,
        response: { 200: { type: "object", additionalProperties: true } },
      },
    },
    async (request) => scopeOf(request).guard(api.status()),
  );

  app.get("/docs/json", { schema: { hide: true } }, async () => app.swagger());
}
