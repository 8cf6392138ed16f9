/** Ingest's public surface (so far): splitting documents into pieces for embedding. */
export { chunk } from "./chunker.js";
export type { ChunkOptions, TextPiece } from "./chunker.js";
