import { z } from "zod";

/**
 * A zod schema as the JSON Schema (draft-07) that fastify's validator (ajv)
 * checks and @fastify/swagger publishes. Requests use the input side of the
 * schema (fields with defaults are optional), responses the output side.
 */
export function requestSchema(schema: z.ZodType): Record<string, unknown> {
  return strip(z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "any" }));
}

export function responseSchema(schema: z.ZodType): Record<string, unknown> {
  return strip(z.toJSONSchema(schema, { target: "draft-7", io: "output", unrepresentable: "any" }));
}

/** A query string that takes no parameters: anything given is an error, not silently ignored. */
export const NO_QUERY = { type: "object", properties: {}, additionalProperties: false } as const;

function strip(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _drop, ...rest } = schema;
  return rest;
}
