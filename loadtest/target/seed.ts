import { request } from "undici";
import type { SourceDocument } from "../workload/source.js";
import { fetchStatus } from "./status.js";

/**
 * Ingests a workload's documents through `POST /v1/documents` (batches of
 * `batch`, one after the other: each is stored durably before the next), then
 * waits until the server reports no ingest pending, so the run queries an
 * index that is complete.
 */
export async function seedDocuments(httpUrl: string, documents: readonly SourceDocument[], options: { batch?: number; timeoutMs?: number; apiKey?: string } = {}): Promise<number> {
  const batch = options.batch ?? 32;
  const headers = { "content-type": "application/json", ...(options.apiKey && { authorization: `Bearer ${options.apiKey}` }) };
  let stored = 0;
  for (let i = 0; i < documents.length; i += batch) {
    const body = { documents: documents.slice(i, i + batch).map((d) => ({ id: d.id, text: d.text, metadata: { title: d.title } })) };
    const res = await request(`${httpUrl}/v1/documents`, { method: "POST", headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`POST /v1/documents → ${res.statusCode} ${text.slice(0, 300)}`);
    stored += (JSON.parse(text) as { ids: string[] }).ids.length;
  }
  await waitIndexed(httpUrl, options.timeoutMs ?? 120_000, options.apiKey);
  return stored;
}

/** Until `GET /v1/status` says `ingest.pending` is 0 (or the field is absent), polled every 200 ms. */
export async function waitIndexed(httpUrl: string, timeoutMs: number, apiKey?: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const status = await fetchStatus(httpUrl, 5_000, apiKey);
    if (!status.ingest?.pending) return;
    if (performance.now() > deadline) throw new Error(`the server still had ${status.ingest.pending} ingest batches pending after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Until the status lists `count` nodes (after `colmena node` processes joined). */
export async function waitNodes(httpUrl: string, count: number, timeoutMs = 60_000, apiKey?: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const n = (await fetchStatus(httpUrl, 5_000, apiKey)).nodes?.length ?? 0;
    if (n >= count) return;
    if (performance.now() > deadline) throw new Error(`only ${n} of ${count} nodes joined within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
