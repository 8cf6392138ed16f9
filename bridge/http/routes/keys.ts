import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { CALLER_ROLES } from "../../auth/roles.js";
import type { AuditLog } from "../../auth/audit-log.js";
import { callerOf } from "../../auth/caller.js";
import type { KeyInfo } from "../../auth/key-records.js";
import type { KeyStore } from "../../auth/key-store.js";
import { eventOf } from "../access.js";
import { NO_QUERY, requestSchema, responseSchema } from "../json-schema.js";
import { errorResponses } from "./error-responses.js";

const KeyInfoShape = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(CALLER_ROLES),
  tier: z.string(),
  created: z.string(),
  expires: z.string().optional(),
  revoked: z.string().optional(),
});
const NewKeyShape = z.strictObject({
  role: z.enum(CALLER_ROLES),
  tier: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional(),
  name: z.string().max(200).optional(),
  expires: z.iso.datetime().optional(),
});
const IdParams = requestSchema(z.strictObject({ id: z.string().min(1).max(64) }));

/** The API-key records, for admins (roles.ts): list, create (the key is in this answer only), revoke. */
export function keyRoutes(app: FastifyInstance, keys: KeyStore, audit: AuditLog | undefined): void {
  const changed = (request: FastifyRequest, op: "create" | "revoke", info: KeyInfo) =>
    audit?.record({ ...eventOf(request, callerOf(request), "key", true), key: { op, id: info.id, role: info.role, tier: info.tier } });

  app.get(
    "/v1/keys",
    { schema: { summary: "API keys (never their secrets)", tags: ["keys"], querystring: NO_QUERY, response: { 200: responseSchema(z.object({ keys: z.array(KeyInfoShape) })), ...errorResponses() } } },
    async () => ({ keys: await keys.list() }),
  );

  app.post<{ Body: z.infer<typeof NewKeyShape> }>(
    "/v1/keys",
    {
      schema: {
        summary: "Make an API key",
        description: "The answer holds the key itself, once: only a digest of its secret is stored.",
        tags: ["keys"],
        querystring: NO_QUERY,
        body: requestSchema(NewKeyShape),
        response: { 201: responseSchema(KeyInfoShape.extend({ key: z.string() })), ...errorResponses() },
      },
    },
    async (request, reply) => {
      const { key, info } = await keys.create(request.body);
      changed(request, "create", info);
      return reply.code(201).send({ ...info, key });
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/v1/keys/:id",
    { schema: { summary: "Revoke an API key", tags: ["keys"], params: IdParams, querystring: NO_QUERY, response: { 200: responseSchema(KeyInfoShape), ...errorResponses(404) } } },
    async (request) => {
      const info = await keys.revoke(request.params.id);
      changed(request, "revoke", info);
      return info;
    },
  );
}
