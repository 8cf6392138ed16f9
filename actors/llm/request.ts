/** Validation of a GenerateRequest, and the warm-up of local backends, shared by every backend. */
import { invalid } from "../../runtime/index.js";
import type { GenerateRequest, LlmBackend } from "./backend.js";

const WARM_UP: GenerateRequest = { messages: [{ role: "user", content: "Hello" }], maxNewTokens: 1 };

/** A local backend's warm-up: one token on a tiny prompt (compiles kernels, allocates the cache) before the first request waits on it. */
export async function generateOneToken(backend: Pick<LlmBackend, "generate">): Promise<void> {
  for await (const _ of backend.generate(WARM_UP, new AbortController().signal));
}

const ROLES: ReadonlySet<string> = new Set(["system", "user", "assistant"]);

/** Throws INVALID naming the first bad field. */
export function validateRequest(req: GenerateRequest): void {
  if (!Array.isArray(req.messages) || req.messages.length === 0) throw invalid("messages must be a non-empty array");
  req.messages.forEach((m, i) => {
    if (!ROLES.has(m.role)) throw invalid(`messages[${i}].role must be system, user or assistant`, { role: m.role });
    if (typeof m.content !== "string") throw invalid(`messages[${i}].content must be a string`);
  });
  if (!Number.isInteger(req.maxNewTokens) || req.maxNewTokens < 1) {
    throw invalid("maxNewTokens must be an integer >= 1", { maxNewTokens: req.maxNewTokens });
  }
  const { temperature, topK, topP, seed, stop } = req;
  if (temperature !== undefined && !(Number.isFinite(temperature) && temperature >= 0)) {
    throw invalid("temperature must be a finite number >= 0", { temperature });
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) throw invalid("topK must be an integer >= 0", { topK });
  if (topP !== undefined && !(topP > 0 && topP <= 1)) throw invalid("topP must be in (0, 1]", { topP });
  if (seed !== undefined && !Number.isSafeInteger(seed)) throw invalid("seed must be an integer", { seed });
  if (stop !== undefined && !(Array.isArray(stop) && stop.every((s) => typeof s === "string" && s.length > 0))) {
    throw invalid("stop must be an array of non-empty strings");
  }
}
