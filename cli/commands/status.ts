import type { NodeActors, NodeInfo } from "../../runtime/index.js";
import { BridgeClient } from "../http-client.js";

export interface StatusOptions {
  url: string;
  apiKey?: string;
  json?: boolean;
}

interface Level {
  hits: number;
  misses: number;
}

interface StatusReport {
  nodes?: NodeInfo[];
  actors?: NodeActors[];
  ingest?: { stored: number; pending: number; indexed: number; errors: number; searchable: boolean; behind: string[]; lastErrors: { docId: string; code: string; message: string }[] };
  cache?: { l1: Level; l2: Level; l3: Level; sets?: number; errors?: number };
  llm?: { instance: string; state: string; backend: string; device: string; inFlight: number; waiting: number; circuit?: string };
  [k: string]: unknown;
}

/** `colmena status`: every node (worker threads included) with its actor kinds and instances, their statechart states and mailbox depths; ingest progress; cache hit rates. */
export async function status(options: StatusOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const report = await new BridgeClient(options.url, options.apiKey).json<StatusReport>("GET", "/v1/status");
  if (options.json) {
    out.write(`${JSON.stringify(report, null, 2)}\n`);
    return;
  }
  out.write("NODES\n");
  for (const n of report.nodes ?? []) {
    out.write(`  ${n.id}  v${n.version}  roles=${n.roles.join(",") || "-"}  in-flight=${n.load.inFlight}  mailbox=${n.load.mailbox}  rss=${n.load.rssMb}MiB\n`);
  }
  for (const node of report.actors ?? []) {
    out.write(`\nACTORS on ${node.node} (root supervisor: ${node.supervisor})${node.kinds.length === 0 ? ": none" : ""}\n`);
    for (const k of node.kinds) {
      out.write(`  ${k.kind} (${k.placement}, supervisor ${k.supervisor}): ${k.activations.length} active\n`);
      for (const a of k.activations) {
        out.write(`    ${a.key}  ${a.lifecycle}/${a.backpressure}  mailbox ${a.mailbox}/${a.capacity}  in-flight ${a.inFlight}  done ${a.processed}  failed ${a.failed}  rejected ${a.rejected}\n`);
      }
    }
  }
  if (report.ingest) {
    const i = report.ingest;
    out.write(`\nINGEST\n  stored ${i.stored}  pending ${i.pending}  indexed ${i.indexed}  errors ${i.errors}  ${i.searchable ? "all searchable" : `not yet searchable${i.behind.length ? ` (replicas applying: ${i.behind.join(", ")})` : ""}`}\n`);
    for (const e of i.lastErrors) out.write(`  failed ${e.docId}: ${e.code}: ${e.message}\n`);
  }
  if (report.llm) {
    const l = report.llm;
    out.write(`\nLLM\n  ${l.instance}  ${l.state}  ${l.backend} on ${l.device}  in-flight ${l.inFlight}  waiting ${l.waiting}${l.circuit === undefined ? "" : `  circuit ${l.circuit}`}\n`);
  }
  if (report.cache) {
    out.write("\nCACHE\n");
    for (const level of ["l1", "l2", "l3"] as const) {
      const c = report.cache[level];
      const total = c.hits + c.misses;
      out.write(`  ${level}: ${c.hits} hits / ${total} lookups (${total ? ((100 * c.hits) / total).toFixed(1) : "0.0"}%)\n`);
    }
  }
}
