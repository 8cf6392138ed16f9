import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { DocumentUpload } from "../../../actors/index.js";
import { ColmenaError } from "../../../runtime/index.js";
import { DocumentId, DocumentInfoShape, IngestRequestShape, toWireDocument } from "../../shapes.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { scopeOf } from "../request-scope.js";
import type { RouteContext } from "./context.js";
import { errorResponses } from "./error-responses.js";

const IdParams = requestSchema(z.strictObject({ id: DocumentId }));

const IngestProgressShape = z.object({
  stored: z.int().describe("entries (documents and deletions) ever stored in the ingest stream"),
  pending: z.int().describe("stored and not yet indexed"),
  indexed: z.int().describe("written to the shards' write log"),
  errors: z.int().describe("given up: malformed, or failed every attempt"),
  last_errors: z.array(z.object({ doc_id: z.string(), code: z.string(), message: z.string() })),
  searchable: z.boolean().describe("nothing pending and every shard replica has applied its log: every document stored so far answers questions"),
  behind: z.array(z.string()).describe("shard replicas still applying their log"),
});

/** Ingest (acknowledged once stored durably), look up and delete documents. */
export function documentRoutes(app: FastifyInstance, { api }: RouteContext): void {
  app.post<{ Body: z.infer<typeof IngestRequestShape> }>(
    "/v1/documents",
    {
      schema: {
        summary: "Ingest documents",
        description: "Answers 202 with the ids (generated where missing) once the documents are stored durably; chunking and indexing follow.",
        tags: ["documents"],
        querystring: NO_QUERY,
        body: requestSchema(IngestRequestShape),
        response: { 202: responseSchema(z.object({ ids: z.array(z.string()) })), ...errorResponses(413) },
      },
    },
    async (request, reply) => {
      const scope = scopeOf(request);
      const documents = request.body.documents as DocumentUpload[];
      const { ids } = await scope.guard(api.ingest(documents, scope));
      return reply.code(202).send({ ids });
    },
  );

  app.get(
    "/v1/ingest",
    {
      schema: {
        summary: "Ingest progress",
        description: "Read from the streams, so cluster-wide and kept across restarts; `colmena ingest` polls it until `searchable`.",
        tags: ["documents"],
        querystring: NO_QUERY,
        response: { 200: responseSchema(IngestProgressShape), ...errorResponses() },
      },
    },
    async (request) => {
      const { lastErrors, ...figures } = await scopeOf(request).guard(api.ingestProgress());
      return { ...figures, last_errors: lastErrors.map((e) => ({ doc_id: e.docId, code: e.code, message: e.message })) };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/v1/documents/:id",
    {
      schema: {
        summary: "Look up a document",
        tags: ["documents"],
        params: IdParams,
        querystring: NO_QUERY,
        response: { 200: responseSchema(DocumentInfoShape), ...errorResponses(404) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const info = await scope.guard(api.getDocument(request.params.id, scope));
      if (info === undefined) throw new ColmenaError("NOT_FOUND", `no document ${JSON.stringify(request.params.id)}`);
      return toWireDocument(info);
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/documents/:id",
    {
      schema: {
        summary: "Delete a document",
        tags: ["documents"],
        params: IdParams,
        querystring: NO_QUERY,
        response: { 200: responseSchema(z.object({ deleted: z.literal(true) })), ...errorResponses(404) },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const existed = await scope.guard(api.deleteDocument(request.params.id, scope));
      if (!existed) throw new ColmenaError("NOT_FOUND", `no document ${JSON.stringify(request.params.id)}`);
      return { deleted: true };
    },
  );
}
