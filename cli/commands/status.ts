import type { KindStats, NodeInfo } from "../../runtime/index.js";
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
  actors?: { node: string; supervisor: string; kinds: KindStats[] };
  cache?: { l1: Level; l2: Level; l3: Level; sets?: number; errors?: number };
  [k: string]: unknown;
}

/** `colmena status`: nodes, actor kinds and instances with their statechart states, mailbox depths, cache hit rates. */
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
  if (report.actors) {
    out.write(`\nACTORS on ${report.actors.node} (root supervisor: ${report.actors.supervisor})\n`);
    for (const k of report.actors.kinds) {
      out.write(`  ${k.kind} (${k.placement}, supervisor ${k.supervisor}): ${k.activations.length} active\n`);
      for (const a of k.activations) {
        out.write(`    ${a.key}  ${a.lifecycle}/${a.backpressure}  mailbox ${a.mailbox}/${a.capacity}  in-flight ${a.inFlight}  done ${a.processed}  failed ${a.failed}  rejected ${a.rejected}\n`);
      }
    }
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
