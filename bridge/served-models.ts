import type { ServedModels } from "../actors/index.js";
import { ColmenaError } from "../runtime/index.js";

/**
 * A request's `model` checked at the edge against what the config serves,
 * before any actor is asked: NOT_FOUND naming the model and listing those of
 * its kind. The OpenAI routes answer it in OpenAI's own shape
 * (`model_not_found`); the others as any ColmenaError.
 */
export function unknownModel(models: ServedModels, kind: "embedder" | "llm", model: string | undefined): ColmenaError | undefined {
  if (model === undefined) return undefined;
  const served = kind === "embedder" ? models.embedders : models.llms;
  if (served.includes(model)) return undefined;
  const list = served.map((id) => JSON.stringify(id)).join(", ");
  return new ColmenaError("NOT_FOUND", `The model ${JSON.stringify(model)} does not exist; this server's ${kind === "llm" ? "LLMs are" : "embedders are"} ${list} (GET /v1/models)`, {
    details: { model, served },
  });
}
