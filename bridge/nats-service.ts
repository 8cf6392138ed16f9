import type { NatsConnection } from "@nats-io/transport-node";
import { Svcm, type Endpoint, type Service, type ServiceMsg } from "@nats-io/services";
import type { Logger } from "pino";
import type { z } from "zod";
import type { RagApi } from "../actors/index.js";
import type { Codec } from "../nats/index.js";
import { abortable, childSpan, ColmenaError, endSpan, isTypedError, newTrace, parseTraceparent, ScopedSignal, SpanKind, startSpan, Subjects, systemClock, tracingEnabled, zodIssues, type CallScope } from "../runtime/index.js";
import { toEdgeError } from "./errors.js";
import { float32Bytes } from "./float32-base64.js";
import { unknownModel } from "./served-models.js";
import { IngestRequestShape, NatsDeleteShape, NatsEmbedShape, NatsQueryShape, toQueryRequest, toWireResult } from "./shapes.js";

/** The name every Colmena node registers its NATS API under: `$SRV.PING.colmena` finds them all. */
export const NATS_SERVICE_NAME = "colmena";

/** The service API's operations, each at `<namespace>.api.<op>`: what the handlers serve and what NATS permissions let outside services call. */
export const NATS_API_OPERATIONS = ["query", "ingest", "delete", "embed"] as const;

export const natsApiSubject = (namespace: string, op: (typeof NATS_API_OPERATIONS)[number]) => `${new Subjects(namespace).prefix}.api.${op}`;

export interface NatsServiceOptions {
  /** Subject prefix shared with the rest of the deployment (the runtime's Subjects). Default "colmena". */
  namespace?: string;
  /** Semantic version the service reports in $SRV.INFO / PING. */
  version: string;
  codec: Codec;
  /** Deadline of a request that names none (query's `timeout_ms`). Default 60 000 ms. */
  requestTimeoutMs?: number;
  log?: Logger;
}

interface Operation {
  shape: z.ZodType;
  description: string;
  /** Runs in the request's scope: its deadline and trace travel with every ask behind it. */
  run(body: never, scope: CallScope): Promise<unknown>;
}

/**
 * Query, ingest, delete and embed as NATS request/reply endpoints at
 * `<namespace>.api.<op>`, registered with @nats-io/services so that
 * `$SRV.PING|INFO|STATS` discover them; every node's instance shares one
 * queue group. Bodies are msgpack both ways, with the same snake_case shapes
 * as the HTTP API. A failure answers with the services error headers
 * (`Nats-Service-Error`: the message, `Nats-Service-Error-Code`: the HTTP
 * status of the code) and a msgpack `{error: {code, message}}` body; bad
 * bytes or shapes are INVALID, never a crash.
 */
export async function startNatsService(nc: NatsConnection, api: RagApi, options: NatsServiceOptions): Promise<Service> {
  const { codec } = options;
  const log = options.log;
  const defaultTimeoutMs = options.requestTimeoutMs ?? 60_000;
  const prefix = new Subjects(options.namespace ?? "colmena").prefix;

  const operations: Record<(typeof NATS_API_OPERATIONS)[number], Operation> = {
    query: {
      shape: NatsQueryShape,
      description: "msgpack {question, session_id?, top_k?, filter?, model?, timeout_ms?} → {answer, sources, session_id, cached, partial, degraded, missing_shards, timings}",
      run: async (body: z.infer<typeof NatsQueryShape>, scope) => {
        const unknown = unknownModel(api.models(), "llm", body.model);
        if (unknown) throw unknown;
        return toWireResult(await api.query(toQueryRequest(body), scope));
      },
    },
    ingest: {
      shape: IngestRequestShape,
      description: "msgpack {documents: [{id?, text, metadata?}]} → {ids}, once stored durably",
      run: (body: z.infer<typeof IngestRequestShape>, scope) => api.ingest(body.documents, scope),
    },
    delete: {
      shape: NatsDeleteShape,
      description: "msgpack {id} → {deleted: true}, or a NOT_FOUND error",
      run: async (body: z.infer<typeof NatsDeleteShape>, scope) => {
        if (!(await api.deleteDocument(body.id, scope))) throw new ColmenaError("NOT_FOUND", `no document ${JSON.stringify(body.id)}`);
        return { deleted: true };
      },
    },
    embed: {
      shape: NatsEmbedShape,
      description: "msgpack {texts, encoding?: float|binary, model?} → {model, dimension, vectors} (arrays of floats, or float32 little-endian bytes)",
      run: async (body: z.infer<typeof NatsEmbedShape>, scope) => {
        const unknown = unknownModel(api.models(), "embedder", body.model);
        if (unknown) throw unknown;
        const { model, dimension, vectors } = await api.embed(body.texts, scope, body.model);
        const binary = body.encoding === "binary";
        return { model, dimension, vectors: vectors.map((v) => (binary ? float32Bytes(v) : Array.from(v))) };
      },
    },
  };

  const failures = new Map<string, { errors: number; last_error?: string }>();
  // @nats-io/services 3.0.0-25 types its connection with its own, older copy
  // of nats-core; the runtime object is the same kind, only the types differ.
  const service = await new Svcm(nc as unknown as ConstructorParameters<typeof Svcm>[0]).add({
    name: NATS_SERVICE_NAME,
    version: options.version,
    description: "Colmena RAG: query, ingest, delete, embed (msgpack bodies)",
    metadata: { namespace: prefix },
    queue: "colmena-api",
    // The services library counts only errors thrown synchronously; async failures are counted here.
    statsHandler: async (endpoint: Endpoint) => failures.get(endpoint.subject) ?? { errors: 0 },
  });
  const group = service.addGroup(`${prefix}.api`);

  for (const name of NATS_API_OPERATIONS) {
    const operation = operations[name];
    const subject = natsApiSubject(prefix, name);
    group.addEndpoint(name, {
      metadata: { request: operation.description },
      handler: (err, msg) => {
        if (err !== null) {
          log?.error({ err, subject }, "NATS service endpoint failed");
          return;
        }
        void answer(msg, operation).catch((failure: unknown) => {
          const count = failures.get(subject) ?? { errors: 0 };
          count.errors += 1;
          count.last_error = failure instanceof Error ? failure.message : String(failure);
          failures.set(subject, count);
          replyError(msg, failure);
        });
      },
    });
  }
  // Once this resolves the server knows every subscription: a request sent next, from any connection, finds a responder.
  await nc.flush();
  return service;

  async function answer(msg: ServiceMsg, operation: Operation): Promise<void> {
    const body = parse(operation.shape, msg.data);
    const timeoutMs = (body as { timeout_ms?: number }).timeout_ms ?? defaultTimeoutMs;
    const deadline = systemClock.now() + timeoutMs;
    const expiry = new ScopedSignal(systemClock, timeoutMs, () => new ColmenaError("TIMEOUT", `the request took longer than ${timeoutMs} ms`));
    const parent = parseTraceparent(msg.headers?.get("traceparent"));
    // A service request is a server span like an HTTP request, named by its endpoint's subject (bounded).
    const span = tracingEnabled()
      ? startSpan(msg.subject, SpanKind.SERVER, parent, () => ({ "messaging.system": "nats", "messaging.system.name": "nats", "messaging.operation.name": "process", "messaging.destination.name": msg.subject }))
      : undefined;
    const scope: CallScope = { deadline, trace: span?.spanContext() ?? (parent ? childSpan(parent) : newTrace()), signal: expiry.signal };
    try {
      const result = await abortable(operation.run(body as never, scope), expiry.signal);
      msg.respond(codec.encode(result));
      if (span) endSpan(span);
    } catch (err) {
      if (span) endSpan(span, err);
      throw err;
    } finally {
      expiry.dispose();
    }
  }

  function parse(shape: z.ZodType, data: Uint8Array): unknown {
    let decoded: unknown;
    try {
      decoded = codec.decode(data);
    } catch (err) {
      // The request's bytes are the caller's mistake: INVALID (or TOO_LARGE), not DECODE.
      if (isTypedError(err) && err.code === "DECODE") throw new ColmenaError("INVALID", err.message);
      throw err;
    }
    const parsed = shape.safeParse(decoded);
    if (!parsed.success) {
      throw new ColmenaError("INVALID", `request does not match the shape: ${zodIssues(parsed.error, { root: "body" }).join("; ")}`);
    }
    return parsed.data;
  }

  function replyError(msg: ServiceMsg, failure: unknown): void {
    const answer = toEdgeError(failure);
    if (answer.unexpected) log?.error({ err: failure, subject: msg.subject }, "NATS service request failed");
    const error: Record<string, unknown> = { ...answer.body.error };
    if (failure instanceof ColmenaError && failure.retryAfterMs !== undefined) error.retry_after_ms = failure.retryAfterMs;
    try {
      // Header values cannot hold line breaks.
      msg.respondError(answer.status, answer.body.error.message.replace(/[\r\n]+/g, " ").slice(0, 512), codec.encode({ error }));
    } catch (err) {
      log?.warn({ err, subject: msg.subject }, "could not answer a NATS service request");
    }
  }
}
