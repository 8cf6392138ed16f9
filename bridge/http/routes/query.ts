import type { FastifyInstance } from "fastify";
import type { z } from "zod";
import { unknownModel } from "../../served-models.js";
import { HttpQueryShape, QueryResultShape, toQueryRequest, toWireMeta, toWireResult, toWireSource } from "../../shapes.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import { streamAnswer, type AnswerRenderer } from "../stream-answer.js";
import { chargeAnswer, metered } from "../token-budget.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";

/**
 * `POST /v1/query`: one answer as JSON, or with `stream: true` as Server-Sent
 * Events: `meta`, then `token`s, `sources`, `done`; `error` if it fails once
 * started.
 */
export function queryRoutes(app: FastifyInstance, { api, options, log }: RouteContext): void {
  app.post<{ Body: z.infer<typeof HttpQueryShape> }>(
    "/v1/query",
    {
      schema: {
        summary: "Ask a question over the ingested documents",
        description:
          "JSON answer, or with `stream: true` a text/event-stream of `meta` {session_id, cached, partial, degraded, missing_shards}, " +
          "`token` {text} events, then `sources` {sources}, then `done` {timings}; `error` {code, message} if it fails after the stream started.",
        tags: ["query"],
        querystring: NO_QUERY,
        body: requestSchema(HttpQueryShape),
        response: {
          200: {
            description: "the answer",
            content: {
              "application/json": { schema: responseSchema(QueryResultShape) },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      const unknown = unknownModel(api.models(), "llm", request.body.model);
      if (unknown) throw unknown;
      const scope = scopeOf(request);
      const query = toQueryRequest(request.body);
      if (request.body.stream !== true) {
        const result = await scope.guard(api.query(query, scope));
        chargeAnswer(request, result.answer);
        return toWireResult(result);
      }
      return streamAnswer(reply, scope, metered(request, api.queryStream(query, scope)), colmenaEvents, { heartbeatMs: options.sseHeartbeatMs, log });
    },
  );
}

const colmenaEvents: AnswerRenderer = {
  async event(event, out) {
    switch (event.type) {
      case "meta":
        return out.send(toWireMeta(event), "meta");
      case "token":
        return out.send({ text: event.text }, "token");
      case "sources":
        return out.send({ sources: event.sources.map(toWireSource) }, "sources");
      case "done":
        return out.send({ timings: event.timings }, "done");
    }
  },
  async error({ body }, out) {
    return out.send(body.error, "error");
  },
  async end() {},
};
