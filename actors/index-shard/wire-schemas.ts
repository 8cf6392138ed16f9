/** Zod schemas for what search messages carry over the wire: vectors, metadata values, filters. */
import { z } from "zod";

/** A Float32Array (msgpack keeps typed arrays) or a plain number array. */
export const VectorSchema = z.union([z.custom<Float32Array>((v) => v instanceof Float32Array, "expected a Float32Array"), z.array(z.number())]);

export const MetadataValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** Equality on metadata: every key must equal the chunk's value. */
export const FilterSchema = z.record(z.string(), MetadataValueSchema);

/** The longest document id (characters): one limit at the edge, in the ingest stream and in every message that names a document. */
export const MAX_DOCUMENT_ID_LENGTH = 512;
export const DocumentIdSchema = z.string().min(1).max(MAX_DOCUMENT_ID_LENGTH);
