import { readFileSync } from "node:fs";
import {
  connect,
  credsAuthenticator,
  nkeyAuthenticator,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import type { Logger } from "pino";
import { NatsError } from "./errors.js";

export type NatsAuth =
  | { type: "none" }
  | { type: "token"; token: string }
  | { type: "user"; user: string; pass: string }
  | { type: "nkey"; seedFile: string }
  | { type: "creds"; credsFile: string };

export interface NatsConnectOptions {
  servers: string | string[];
  name: string;
  auth?: NatsAuth;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** Where this connection's replies come (nats.js's default `_INBOX`): a user whose permissions allow only its own prefix must set it. */
  inboxPrefix?: string;
  /** -1 retries forever. */
  maxReconnectAttempts?: number;
  reconnectTimeWaitMs?: number;
  reconnectJitterMs?: number;
  timeoutMs?: number;
}

/** Opens a NATS connection and logs every status change (disconnects, reconnects, errors). */
export async function connectNats(options: NatsConnectOptions, log: Pick<Logger, "info" | "warn" | "error">): Promise<NatsConnection> {
  const opts: NodeConnectionOptions = {
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: options.maxReconnectAttempts ?? -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1_000,
    reconnectJitter: options.reconnectJitterMs ?? 500,
    timeout: options.timeoutMs ?? 5_000,
    // nats.js otherwise builds an Error (a stack capture) for every request and its timer, in case it fails; every ask and
    // KV read or write is a request, and those stacks only ever name nats.js's own frames (ColmenaError names the subject).
    noAsyncTraces: true,
  };
  const authenticator = toAuthenticator(options.auth ?? { type: "none" });
  if (authenticator) opts.authenticator = authenticator;
  if (options.tls) opts.tls = { ...options.tls };
  if (options.inboxPrefix !== undefined) opts.inboxPrefix = options.inboxPrefix;

  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (cause) {
    throw new NatsError("UNAVAILABLE", `cannot connect to NATS at ${String(options.servers)}: ${(cause as Error).message}`, { cause });
  }
  log.info({ server: nc.getServer() }, "nats connected");
  void logStatus(nc, log);
  return nc;
}

async function logStatus(nc: NatsConnection, log: Pick<Logger, "info" | "warn" | "error">): Promise<void> {
  for await (const s of nc.status()) {
    switch (s.type) {
      case "disconnect":
        log.warn({ server: s.server }, "nats disconnected");
        break;
      case "reconnect":
        log.info({ server: s.server }, "nats reconnected");
        break;
      case "error":
        log.error({ err: s.error }, "nats error");
        break;
      case "slowConsumer":
        log.warn({ subject: s.sub.getSubject(), pending: s.pending }, "nats slow consumer");
        break;
      case "ldm":
        log.warn({ server: s.server }, "nats server entering lame-duck mode");
        break;
      default:
        break;
    }
  }
}

function toAuthenticator(auth: NatsAuth): Authenticator | undefined {
  switch (auth.type) {
    case "none":
      return undefined;
    case "token":
      return tokenAuthenticator(auth.token);
    case "user":
      return usernamePasswordAuthenticator(auth.user, auth.pass);
    case "nkey":
      return nkeyAuthenticator(new TextEncoder().encode(readSecret(auth.seedFile, "nkey seed").trim()));
    case "creds":
      return credsAuthenticator(new TextEncoder().encode(readSecret(auth.credsFile, "creds")));
  }
}

function readSecret(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (cause) {
    throw new NatsError("INVALID", `cannot read ${what} file ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
}
