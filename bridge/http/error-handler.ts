import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "pino";
import { ColmenaError } from "../../runtime/index.js";
import { edgeError, EdgeRejection, toEdgeError, type EdgeError } from "../errors.js";
import { MAX_PATH_PARAM_LENGTH } from "../shapes.js";
import { maybeScopeOf } from "./request-scope.js";

/** A failed request's answer, however it failed: one function behind fastify's error handler and its framework errors. */
export type ErrorAnswerer = (err: FastifyError, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/**
 * Every failure answers `{error: {code, message}}` with the status of its
 * code (bridge/errors.ts). Fastify's own errors (validation, body parsing,
 * size limit, and the router's: a malformed escape, a path parameter past
 * the id limit) are mapped here; anything unexpected is logged with its
 * stack and answered as a bare INTERNAL error.
 */
export function errorAnswerer(log: Logger, bodyLimit: number): ErrorAnswerer {
  return (err, request, reply) => {
    const answer = fromFastify(err, bodyLimit);
    maybeScopeOf(request)?.failed(answer.body.error.code);
    // The request's logger carries its trace id; a connection-level error before any request has only the bridge's.
    if (answer.unexpected) (request.log ?? log).error({ err, method: request.method, url: request.url.slice(0, 200) }, "request failed");
    const send = () => reply.code(answer.status).headers(answer.headers).send(answer.body);
    // A body refused by its length unread: the client is still sending it, and a connection closed under it would show a broken pipe, not the 413.
    if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE" && !request.raw.complete) {
      void drained(request.raw, DRAIN_LIMITS * bodyLimit).then(send);
      return reply;
    }
    return send();
  };
}

/** A body over the limit is read and dropped up to this many times the limit before the 413 goes out; past that the connection closes under the client. */
const DRAIN_LIMITS = 16;

/** Reads a request's body to its end (or `maxBytes`, or its failure), keeping none of it. */
function drained(req: IncomingMessage, maxBytes: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off("data", onData).off("end", done).off("error", done).off("close", done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    req.on("data", onData).once("end", done).once("error", done).once("close", done);
    req.resume();
  });
}

/** The answerer as fastify's error handler, and 404s in the same body. */
export function attachErrorHandling(app: FastifyInstance, answer: ErrorAnswerer): void {
  app.setErrorHandler(answer);
  app.setNotFoundHandler((request, reply) => {
    const answer = edgeError("NOT_FOUND", `no route ${request.method} ${request.url.split("?")[0]!.slice(0, 200)}`);
    return reply.code(answer.status).send(answer.body);
  });
}

/**
 * Bytes that are not an HTTP request (bad framing, a malformed chunked body,
 * headers over Node's limit, a client too slow to send them) never become a
 * request: Node hands the socket over instead. It gets the same error body,
 * then the connection closes.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  // A response already under way on this socket cannot be followed by another status line (Node's own rule).
  const underWay = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (!socket.writable || underWay) {
    socket.destroy();
    return;
  }
  const answer =
    err.code === "HPE_HEADER_OVERFLOW"
      ? { ...edgeError("TOO_LARGE", "the request's headers are larger than the server accepts"), status: 431 }
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? { ...edgeError("TIMEOUT", "the request was not received in time"), status: 408 }
        : edgeError("INVALID", "malformed HTTP request");
  const body = JSON.stringify(answer.body);
  const head = [`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}`, "Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`, "Connection: close"];
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`, () => socket.destroy());
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
    case "FST_ERR_BAD_URL":
      return edgeError("INVALID", "the path holds a malformed percent-escape");
    case "FST_ERR_MAX_PARAM_LENGTH":
      // The same answer as an id over the limit in a body: the router only sees it first.
      return edgeError("INVALID", `a path parameter may have at most ${MAX_PATH_PARAM_LENGTH} characters`);
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
