import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { collectDefaultMetrics } from "prom-client";
import { mergedExposition, nodeMetrics, type Logger, type MetricsSnapshot } from "../runtime/index.js";

let processMetrics = false;

/** Node's process metrics (CPU, memory, heap, event loop lag, GC), once per process, in the main thread's registry: an actor thread shares the process, so it adds none. */
export function collectProcessMetrics(): void {
  if (processMetrics) return;
  processMetrics = true;
  collectDefaultMetrics({ register: nodeMetrics });
  // Gauges that prom-client names like counters (promtool warns on them); nodejs_active_{handles,requests,resources} carry the same figures by type.
  for (const name of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) nodeMetrics.removeSingleMetric(name);
}

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics for a node without the bridge: the main thread's figures and
 * its actor threads', the same exposition the bridge's /metrics serves.
 */
export async function startMetricsServer(options: { host: string; port: number; threads: Array<() => Promise<MetricsSnapshot>>; log: Logger }): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" || req.url?.split("?")[0] !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    mergedExposition([nodeMetrics], options.threads).then(
      ({ contentType, text }) => res.writeHead(200, { "content-type": contentType }).end(text),
      (err: unknown) => {
        options.log.error({ err }, "metrics scrape failed");
        res.writeHead(500).end();
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { url: `http://${options.host}:${port}/metrics`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
