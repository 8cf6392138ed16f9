/**
 * A stand-in inference engine for the scaling benchmark, run as its own
 * process like any engine: an OpenAI-compatible HTTP server whose cost is
 * time, not CPU. It generates `tokens` tokens at `tokenMs` each for at most
 * `slots` requests at once; the others wait in its queue, as a real
 * engine's do. GET /v1/stats: generations served, busy slots, queue length.
 * Argv: port slots tokens tokenMs. Prints "ready <port>".
 */
import { once } from "node:events";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const [port = "0", slotsArg = "4", tokensArg = "8", tokenMsArg = "25"] = process.argv.slice(2);
const slots = Number(slotsArg);
const tokens = Number(tokensArg);
const tokenMs = Number(tokenMsArg);

let busy = 0;
/** Generations finished, for the benchmark's view of how evenly work was spread. */
let served = 0;
const queue: Array<() => void> = [];
const acquire = () => (busy < slots ? (busy++, Promise.resolve()) : new Promise<void>((r) => queue.push(r)));
const release = () => {
  const next = queue.shift();
  if (next) next();
  else busy--;
};

const event = (res: ServerResponse, data: unknown) => res.write(`data: ${JSON.stringify(data)}\n\n`);
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ id: "b", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] });

const server = createServer(async (req, res) => {
  for await (const _ of req); // the body is not needed: every request costs the same
  const path = new URL(req.url ?? "/", "http://engine").pathname;
  if (req.method === "GET" && path === "/v1/models") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ object: "list", data: [{ id: "bench-engine", object: "model" }] }));
    return;
  }
  if (req.method === "GET" && path === "/v1/stats") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ served, busy, queued: queue.length }));
    return;
  }
  if (req.method !== "POST" || path !== "/v1/chat/completions") {
    res.writeHead(404).end();
    return;
  }
  await acquire();
  try {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    event(res, chunk({ role: "assistant" }));
    for (let i = 0; i < tokens && !res.destroyed; i++) {
      await new Promise((r) => setTimeout(r, tokenMs));
      event(res, chunk({ content: `t${i} ` }));
    }
    event(res, chunk({}, "stop"));
    event(res, { id: "b", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 8, completion_tokens: tokens } });
    res.end("data: [DONE]\n\n");
    served++;
  } finally {
    release();
  }
});
server.listen(Number(port), "127.0.0.1");
await once(server, "listening");
process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
