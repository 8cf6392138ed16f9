import type { FastifyError, FastifyInstance } from "fastify";
import { ColmenaError } from "../../runtime/index.js";
import { edgeError, EdgeRejection, toEdgeError, type EdgeError } from "../errors.js";

/**
 * Every failure answers `{error: {code, message}}` with the status of its
 * code (bridge/errors.ts). Fastify's own errors (validation, body parsing,
 * size limit) are mapped here; anything unexpected is logged with its stack
 * and answered as a bare INTERNAL error.
 */
export function attachErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    const answer = fromFastify(err, bodyLimit);
    if (answer.unexpected) request.log.error({ err, method: request.method, url: request.url }, "request failed");
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const answer = edgeError("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`);
    return reply.code(answer.status).send(answer.body);
  });
}

function fromFastify(err: FastifyError, bodyLimit: number): EdgeError {
  if (err instanceof ColmenaError || err instanceof EdgeRejection) return toEdgeError(err);
  if (err.validation !== undefined) return edgeError("INVALID", validationMessage(err));
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return edgeError("TOO_LARGE", `the body is larger than the ${bodyLimit}-byte limit`);
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return edgeError("INVALID", "the body is not valid JSON");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return edgeError("INVALID", "the body is empty; send a JSON object");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { ...edgeError("INVALID", "unsupported content type; send application/json"), status: 415 };
  }
  const status = err.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { ...edgeError(status === 404 ? "NOT_FOUND" : "INVALID", err.message), status };
  }
  return toEdgeError(err);
}

/** ajv's errors as one line: `body/top_k must be integer; body must NOT have additional properties ('topK')`. */
function validationMessage(err: FastifyError): string {
  const context = err.validationContext ?? "request";
  const lines = (err.validation ?? []).map((v) => {
    const extra = typeof v.params?.additionalProperty === "string" ? ` ('${v.params.additionalProperty}')` : "";
    return `${context}${v.instancePath} ${v.message ?? "is not valid"}${extra}`;
  });
  return lines.length > 0 ? lines.join("; ") : err.message;
}
