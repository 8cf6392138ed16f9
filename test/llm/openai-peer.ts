/**
 * A real HTTP peer for the openai backend's tests: a node:http server that
 * speaks the OpenAI chat-completions streaming format (server-sent events)
 * and lists its models, and that can be told to fail, stall or go slow.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export type PeerMode =
  /** Streams `reply` word by word. */
  | { type: "ok"; reply: string; chunkDelayMs?: number; finish?: "stop" | "length" }
  /** Every request answers this status. */
  | { type: "status"; status: number; retryAfter?: string }
  /** Sends the headers and the first word, then nothing. */
  | { type: "stall"; reply: string };

export interface PeerRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | undefined;
}

export interface Peer {
  /** The API root, e.g. http://127.0.0.1:1234/v1 */
  url: string;
  mode: PeerMode;
  requests: PeerRequest[];
  /** Chunks written by the last streamed response and whether its client hung up before the end. */
  last: { written: number; hungUp: boolean; closed: Promise<void> };
  close(): Promise<void>;
}

export async function startPeer(mode: PeerMode, model = "tiny-chat"): Promise<Peer> {
  const sockets = new Set<import("node:net").Socket>();
  const peer: Peer = {
    url: "",
    mode,
    requests: [],
    last: { written: 0, hungUp: false, closed: Promise.resolve() },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
  const server = createServer(async (req, res) => {
    const raw = await readBody(req);
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    const path = new URL(req.url ?? "/", "http://peer").pathname;
    peer.requests.push({ method: req.method ?? "GET", path, headers: req.headers, body });
    const current = peer.mode;
    if (current.type === "status") {
      res.writeHead(current.status, { "content-type": "application/json", ...(current.retryAfter && { "retry-after": current.retryAfter }) });
      res.end(JSON.stringify({ error: { message: `peer answers ${current.status}` } }));
      return;
    }
    if (req.method === "GET" && path === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data: [{ id: model, object: "model" }] }));
      return;
    }
    if (req.method === "POST" && path === "/v1/chat/completions") {
      await stream(res, current, peer);
      return;
    }
    res.writeHead(404).end();
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  peer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return peer;
}

async function stream(res: ServerResponse, mode: Exclude<PeerMode, { type: "status" }>, peer: Peer): Promise<void> {
  const last = { written: 0, hungUp: false, closed: Promise.resolve() };
  last.closed = new Promise((resolve) => res.on("close", () => resolve()));
  peer.last = last;
  let ended = false;
  res.on("close", () => {
    if (!ended) last.hungUp = true;
  });
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  res.write(": keep-alive\n\n");
  const words = mode.reply.split(/(?<= )/);
  const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
  const chunk = (content: string) => ({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: null }] });
  if (mode.type === "stall") {
    res.write(event(chunk(words[0] ?? "")));
    last.written++;
    return;
  }
  res.write(event({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }] }));
  for (const [i, word] of words.entries()) {
    if (res.destroyed || last.hungUp) return;
    const text = event(chunk(word));
    if (i === 1) {
      // One event split across writes, inside a multi-byte character where there is one, with CRLF line ends.
      const bytes = Buffer.from(text.replace(/\n/g, "\r\n"));
      const multiByte = bytes.findIndex((b) => b >= 0x80);
      const cut = multiByte >= 0 ? multiByte + 1 : Math.floor(bytes.length / 2);
      res.write(bytes.subarray(0, cut));
      res.write(bytes.subarray(cut));
    } else {
      res.write(text);
    }
    last.written++;
    if (mode.chunkDelayMs) await new Promise((r) => setTimeout(r, mode.chunkDelayMs));
  }
  res.write(event({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: mode.finish ?? "stop" }] }));
  res.write(event({ id: "c1", object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 11, completion_tokens: words.length } }));
  res.write("data: [DONE]\n\n");
  ended = true;
  res.end();
}

async function readBody(req: IncomingMessage): Promise<string> {
  let raw = "";
  req.setEncoding("utf8");
  for await (const part of req) raw += part;
  return raw;
}
