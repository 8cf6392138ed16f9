import { AuditLog, type AuditEvent } from "../../bridge/index.js";
import { connectNats } from "../../nats/index.js";
import { ColmenaError, createLogger } from "../../runtime/index.js";
import { operatorConnection } from "../local-creds.js";
import { nodeConfig } from "../config.js";
import type { KeysOptions } from "./keys.js";

export type AuditTailOptions = KeysOptions & { since: string; denied?: boolean; follow?: boolean };

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now (`90s`, `10m`, `2h`, `7d`) or an ISO 8601 time. */
export function sinceMs(since: string, now = Date.now()): number {
  const m = /^(\d+)([smhd])$/.exec(since);
  if (m) return now - Number(m[1]) * UNIT_MS[m[2]!]!;
  const at = Date.parse(since);
  if (Number.isNaN(at)) throw new ColmenaError("INVALID", `--since takes a duration such as 10m or an ISO 8601 time, got ${JSON.stringify(since)}`);
  return at;
}

/** `colmena audit tail`: the audit stream's events since a time, one line each, read through NATS. */
export async function auditTail(options: AuditTailOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const from = sinceMs(options.since);
  const config = nodeConfig({ ...options, logLevel: "warn" }, process.env);
  const log = createLogger({ level: config.log.level, nodeId: "colmena-audit" });
  const nc = await connectNats(operatorConnection(config, "colmena-audit"), log);
  try {
    const events = AuditLog.existing(nc, config.namespace, log).read({ sinceMs: from, deniedOnly: options.denied ?? false, follow: options.follow ?? false });
    for await (const e of events) out.write(options.json ? `${JSON.stringify(e)}\n` : `${line(e)}\n`);
  } finally {
    await nc.drain();
  }
}

function line(e: AuditEvent): string {
  const what = e.key ? `${e.key.op} key ${e.key.id} (${e.key.role}, tier ${e.key.tier})` : `${e.method} ${e.route} → ${e.status}${e.code ? ` ${e.code}` : ""}`;
  const who = [e.caller ?? "unknown", e.role, e.ip].filter(Boolean).join(" ");
  return `${e.at}  ${e.kind.padEnd(5)} ${e.allowed ? "allowed" : "DENIED "}  ${who}  ${what}${e.reason ? `  (${e.reason})` : ""}${e.trace ? `  trace ${e.trace}` : ""}`;
}
