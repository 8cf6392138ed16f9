import type { Random } from "./random.js";

export interface SourceDocument {
  id: string;
  title: string;
  text: string;
}

/** Where a workload's text comes from: generated vocabulary, or a corpus folder. */
export interface WorkloadSource {
  /** "generated", or the corpus folder. */
  name: string;
  /** What `--spawn` ingests before the run. */
  documents: readonly SourceDocument[];
  /** A question drawn at random (fresh ones may still collide; the workload de-duplicates). */
  question(r: Random): string;
  /** Text for a new document (mixed ingest). */
  passage(r: Random): string;
}
