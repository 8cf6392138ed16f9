import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { pino } from "pino";
import { Registry } from "prom-client";
import { buildHttpBridge, type HttpBridgeConfig } from "../../bridge/index.js";
import { FakeRagApi } from "./fake-rag-api.js";

export interface TestBridge {
  app: FastifyInstance;
  api: FakeRagApi;
  registry: Registry;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The HTTP bridge over a FakeRagApi, listening on a free loopback port. */
export async function startBridge(options: Partial<HttpBridgeConfig> = {}, api = new FakeRagApi()): Promise<TestBridge> {
  const registry = new Registry();
  const app = buildHttpBridge(api, { log: pino({ level: process.env.COLMENA_TEST_LOG ?? "silent" }), metrics: registry, ...options });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return { app, api, registry, port, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

export interface SseEvent {
  event: string | undefined;
  data: string;
}

/** Splits a text/event-stream body into events (comment lines skipped). */
export function parseSse(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split("\n\n")) {
    let event: string | undefined;
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event: ")) event = line.slice(7);
      else if (line.startsWith("data: ")) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ event, data: data.join("\n") });
  }
  return events;
}

export const json = (body: unknown) => ({ method: "POST" as const, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
