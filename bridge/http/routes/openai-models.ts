import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ColmenaError } from "../../../runtime/index.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";

/**
 * OpenAI's `GET /v1/models` (and `/v1/models/:model`): every LLM and
 * embedder the config serves, the default LLM first, with two Colmena extensions: `kind`
 * and `loaded` (whether the instance of its pool that answered holds it now;
 * each instance loads a model on its own first use).
 */
const ModelShape = z.object({
  id: z.string(),
  object: z.literal("model"),
  owned_by: z.literal("colmena"),
  created: z.int(),
  kind: z.enum(["embedder", "llm"]).describe("Colmena extension"),
  loaded: z.boolean().describe("Colmena extension: loaded in the instance of its pool that answered"),
});

export function modelRoutes(app: FastifyInstance, { api, startedAt }: RouteContext): void {
  const list = async (scope: Parameters<typeof api.modelStates>[0]) => {
    const states = await api.modelStates(scope);
    // One id serving as both an embedder and an llm (a test's fakes) is listed once, as OpenAI lists an id once.
    const seen = new Set<string>();
    return states
      .filter((m) => !seen.has(m.id) && seen.add(m.id))
      .map((m) => ({ id: m.id, object: "model" as const, owned_by: "colmena" as const, created: startedAt, kind: m.kind, loaded: m.loaded }));
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
    async (request) => ({ object: "list", data: await list(scopeOf(request)) }),
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
      const model = (await list(scopeOf(request))).find((m) => m.id === request.params.model);
      if (model === undefined) throw new ColmenaError("NOT_FOUND", `no model ${JSON.stringify(request.params.model)}`);
      return model;
    },
  );
}
