import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { ColmenaError } from "../../../runtime/index.js";
import { responseSchema } from "../json-schema.js";

/** OpenAI's own answer for an unknown model, which its clients and frameworks recognise: the OpenAI routes answer it instead of Colmena's NOT_FOUND. */
const ModelNotFoundShape = z.object({
  error: z.object({ code: z.literal("model_not_found"), type: z.literal("invalid_request_error"), param: z.literal("model"), message: z.string() }),
});

export const modelNotFoundResponse = (description: string) => ({ 404: { description, ...responseSchema(ModelNotFoundShape) } });

export function sendModelNotFound(reply: FastifyReply, err: ColmenaError): FastifyReply {
  return reply.code(404).send({ error: { code: "model_not_found", type: "invalid_request_error", param: "model", message: err.message } });
}
