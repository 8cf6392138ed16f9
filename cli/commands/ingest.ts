import { setTimeout as sleep } from "node:timers/promises";
import { documentRoot, findDocuments, readDocument } from "../documents.js";
import { BridgeClient, BridgeError } from "../http-client.js";
import { progressBar } from "../progress.js";

export interface IngestOptions {
  url: string;
  apiKey?: string;
  batch: number;
  /** False (`--no-wait`): return once the documents are stored, before they are searchable. */
  wait: boolean;
  /** How often the progress is read while waiting. */
  pollMs?: number;
}

interface Progress {
  stored: number;
  pending: number;
  indexed: number;
  errors: number;
  last_errors: { doc_id: string; code: string; message: string }[];
  searchable: boolean;
  behind: string[];
}

/**
 * `colmena ingest PATH...`: sends markdown, text and HTML files in batches,
 * each stored durably before the next; then, unless `--no-wait`, follows the
 * ingest progress until everything stored is searchable. A document's id is
 * its file's path from the root of its git checkout (documents.ts), so the
 * same file keeps its id whichever folder is named, and ingesting it again
 * replaces it.
 */
export async function ingest(paths: string[], options: IngestOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const client = new BridgeClient(options.url, options.apiKey);
  const files = await findDocuments(paths);
  if (files.length === 0) throw new Error(`no markdown, text or HTML files under ${paths.join(", ")}`);
  const before = options.wait ? await client.json<Progress>("GET", "/v1/ingest") : undefined;
  const bar = progressBar(files.length, "storing ");
  let ids = 0;
  const empty: string[] = [];
  for (let i = 0; i < files.length; i += options.batch) {
    const batch = await Promise.all(files.slice(i, i + options.batch).map(async (f) => readDocument(f, await documentRoot(f))));
    const documents = batch.filter((d) => d.text.trim().length > 0);
    for (const d of batch) if (!d.text.trim()) empty.push(d.metadata.source);
    if (documents.length > 0) ids += (await client.json<{ ids: string[] }>("POST", "/v1/documents", { documents })).ids.length;
    bar.tick(batch.length);
  }
  bar.done();
  out.write(`stored ${ids} documents${empty.length ? `; skipped ${empty.length} with no text: ${empty.join(", ")}` : ""}\n`);
  if (before === undefined || ids === 0) return;
  const after = await waitUntilSearchable(client, before, ids, options.pollMs ?? 200);
  const failed = after.errors - before.errors;
  out.write(`searchable: ${ids - Math.min(ids, failed)} documents${failed > 0 ? `; ${failed} failed: ${after.last_errors.slice(-failed).map((e) => `${e.doc_id} (${e.code}: ${e.message})`).join(", ")}` : ""}\n`);
}

/** How long the progress may go unread (the bridge busy, a replica slow to answer) before waiting gives up. */
const UNREADABLE_MS = 60_000;

/** Follows the ingest progress (stored entries done, then replicas applying the log) until it says searchable. */
async function waitUntilSearchable(client: BridgeClient, before: Progress, ids: number, pollMs: number): Promise<Progress> {
  const bar = progressBar(ids, "indexing");
  let lastRead = Date.now();
  for (;;) {
    let p: Progress;
    try {
      p = await client.json<Progress>("GET", "/v1/ingest");
      lastRead = Date.now();
    } catch (err) {
      // The documents are stored whatever happens here; a failed read of the progress (but a refusal) is no reason to stop following it.
      const refused = err instanceof BridgeError && err.status < 500;
      if (refused || Date.now() - lastRead > UNREADABLE_MS) {
        throw new Error(`the documents are stored, but their progress ${refused ? "cannot be read" : `could not be read for ${UNREADABLE_MS / 1000} s`}: ${(err as Error).message}`, { cause: err });
      }
      await sleep(pollMs);
      continue;
    }
    // Ours are the entries stored since `before`; others' ingests may be in the queue beside them.
    const done = p.indexed + p.errors - (before.indexed + before.errors);
    bar.tick(Math.min(ids, Math.max(0, done - (ids - bar.remaining()))));
    if (p.searchable) {
      bar.tick(bar.remaining());
      bar.done();
      return p;
    }
    await sleep(pollMs);
  }
}
