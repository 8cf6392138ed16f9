import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ColmenaError } from "../../../runtime/index.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";

/** OpenAI's `GET /v1/models` (and `/v1/models/:model`): the embedder and the LLM this deployment serves. */
const ModelShape = z.object({ id: z.string(), object: z.literal("model"), owned_by: z.literal("colmena"), created: z.int() });

export function modelRoutes(app: FastifyInstance, { api, startedAt }: RouteContext): void {
  const list = () => {
    const { embedder, llm } = api.models();
    return [...new Set([llm, embedder])].map((id) => ({ id, object: "model" as const, owned_by: "colmena" as const, created: startedAt }));
  };

  app.get(
    "/v1/models",
    {
      schema: {
        summary: "The models this deployment serves",
        tags: ["openai"],
        querystring: NO_QUERY,
        response: { 200: responseSchema(z.object({ object: z.literal("list"), data: z.array(ModelShape) })), ...errorResponses() },
      },
    },
    async () => ({ object: "list", data: list() }),
  );

  app.get<{ Params: { model: string } }>(
    "/v1/models/:model",
    {
      schema: {
        summary: "One model",
        tags: ["openai"],
        params: requestSchema(z.strictObject({ model: z.string().min(1) })),
        querystring: NO_QUERY,
        response: { 200: responseSchema(ModelShape), ...errorResponses(404) },
      },
    },
    async (request) => {
      const model = list().find((m) => m.id === request.params.model);
      if (model === undefined) throw new ColmenaError("NOT_FOUND", `no model ${JSON.stringify(request.params.model)}`);
      return model;
    },
  );
}
