import { documentRoot, findDocuments, readDocument } from "../documents.js";
import { BridgeClient } from "../http-client.js";
import { progressBar } from "../progress.js";

export interface IngestOptions {
  url: string;
  apiKey?: string;
  batch: number;
}

/** `colmena ingest PATH...`: sends markdown, text and HTML files in batches; each batch is stored durably before the next. */
export async function ingest(paths: string[], options: IngestOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const client = new BridgeClient(options.url, options.apiKey);
  const files = await findDocuments(paths);
  if (files.length === 0) throw new Error(`no markdown, text or HTML files under ${paths.join(", ")}`);
  const bar = progressBar(files.length, "ingesting");
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
}
