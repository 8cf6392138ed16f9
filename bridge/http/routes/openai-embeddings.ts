import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { ColmenaError } from "../../../runtime/index.js";
import { float32ToBase64 } from "../../float32-base64.js";
import { unknownModel } from "../../served-models.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";
import { modelNotFoundResponse, sendModelNotFound } from "./model-not-found.js";

/**
 * OpenAI's `POST /v1/embeddings` on the embedder pool. `input` is a string
 * or strings (token arrays are not accepted). `encoding_format: "base64"`
 * (the official clients' default) sends each vector as base64 of its float32
 * little-endian bytes. `usage` is an estimate (4 characters a token): the
 * RagApi does not report token counts.
 */
const EmbeddingsRequestShape = z.looseObject({
  input: z.union([z.string(), z.array(z.string()).min(1).max(2048)]),
  model: z.string().optional().describe("one of the embedders GET /v1/models lists; default: the one retrieval uses"),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.int().min(1).optional().describe("must equal the embedder's dimension when given"),
  user: z.string().optional(),
});
type EmbeddingsRequest = z.infer<typeof EmbeddingsRequestShape>;

const EmbeddingsResponseShape = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ object: z.literal("embedding"), index: z.int(), embedding: z.union([z.array(z.number()), z.string()]) })),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.int(), total_tokens: z.int() }),
});

export function embeddingRoutes(app: FastifyInstance, { api }: RouteContext): void {
  app.post<{ Body: EmbeddingsRequest }>(
    "/v1/embeddings",
    {
      schema: {
        summary: "OpenAI-compatible embeddings",
        tags: ["openai"],
        querystring: NO_QUERY,
        body: requestSchema(EmbeddingsRequestShape),
        response: { 200: responseSchema(EmbeddingsResponseShape), ...errorResponses(413), ...modelNotFoundResponse("`model` is not one of this server's embedders") },
      },
    },
    async (request, reply) => {
      const { input, model, encoding_format: encoding = "float", dimensions } = request.body;
      const unknown = unknownModel(api.models(), "embedder", model);
      if (unknown) return sendModelNotFound(reply, unknown);
      const scope = scopeOf(request);
      const texts = typeof input === "string" ? [input] : input;
      const result = await scope.guard(api.embed(texts, scope, model));
      if (dimensions !== undefined && dimensions !== result.dimension) {
        throw new ColmenaError("INVALID", `model ${result.model} has ${result.dimension} dimensions, not ${dimensions}`);
      }
      const tokens = texts.reduce((sum, t) => sum + Math.ceil(t.length / 4), 0);
      return {
        object: "list",
        data: result.vectors.map((v, index) => ({
          object: "embedding",
          index,
          embedding: encoding === "base64" ? float32ToBase64(v) : Array.from(v),
        })),
        model: result.model,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  );
}
