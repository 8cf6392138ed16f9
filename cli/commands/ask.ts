import { BridgeClient } from "../http-client.js";
import { readSse } from "../sse.js";

export interface AskOptions {
  url: string;
  apiKey?: string;
  session?: string;
  topK?: number;
  json?: boolean;
}

/** A source as the bridge sends it (bridge/shapes.ts SourceShape): the fields `ask` shows. */
export interface SourceLine {
  doc_id: string;
  rank?: number;
  /** Relative to the first source: 1 for the best document. */
  score: number;
  title?: string;
  path?: string;
  heading?: string;
  snippet?: string;
}

/** `colmena ask "question"`: streams the answer to the terminal, then the sources. */
export async function ask(question: string, options: AskOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const client = new BridgeClient(options.url, options.apiKey);
  const body = { question, stream: !options.json, ...(options.session && { session_id: options.session }), ...(options.topK && { top_k: options.topK }) };
  if (options.json) {
    out.write(`${JSON.stringify(await client.json("POST", "/v1/query", body), null, 2)}\n`);
    return;
  }
  const res = await client.fetch("POST", "/v1/query", body);
  let sources: SourceLine[] = [];
  let meta: { session_id?: string; cached?: boolean; partial?: boolean; degraded?: boolean } = {};
  for await (const e of readSse(res.body!)) {
    const data = JSON.parse(e.data) as Record<string, unknown>;
    if (e.event === "token") out.write(String(data.text));
    else if (e.event === "meta") meta = data;
    else if (e.event === "sources") sources = data.sources as SourceLine[];
    else if (e.event === "error") throw new Error(`${String((data as { code?: string }).code)}: ${String((data as { message?: string }).message)}`);
  }
  out.write("\n");
  if (sources.length > 0) {
    out.write("\nSources:\n");
    out.write(formatSources(sources));
  }
  const flags = [meta.cached && "from cache", meta.partial && "partial: some shards missed the deadline", meta.degraded && "degraded: extractive fallback"].filter(Boolean);
  if (flags.length) out.write(`(${flags.join("; ")})\n`);
  if (meta.session_id) out.write(`session: ${meta.session_id}\n`);
}

/**
 * The sources under an answer, one block per source: "[rank] title — path",
 * the heading of the best section, the relative score as a percentage of
 * the best source's, and the snippet. Read from the source's own fields
 * (not its metadata, which a document may not have).
 */
export function formatSources(sources: readonly SourceLine[]): string {
  return sources
    .map((s, i) => {
      const path = s.path ?? s.doc_id;
      const head = s.title && s.title !== path ? `${s.title} — ${path}` : path;
      const lines = [`  [${s.rank ?? i + 1}] ${head} (${Math.round(s.score * 100)}%)`];
      if (s.heading) lines.push(`      § ${s.heading}`);
      if (s.snippet) lines.push(`      ${s.snippet}`);
      return `${lines.join("\n")}\n`;
    })
    .join("");
}
