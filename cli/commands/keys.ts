import { userInfo } from "node:os";
import { AuditLog, KeyStore, type KeyInfo, type NewKeyRequest } from "../../bridge/index.js";
import { connectNats } from "../../nats/index.js";
import { createLogger } from "../../runtime/index.js";
import { operatorConnection } from "../local-creds.js";
import { nodeConfig, type ConfigFlags } from "../config.js";

/** Where `colmena keys` finds the system: the node's config (file, environment, --nats, --namespace, --creds, else the credentials of a colmena up in --data-dir), never an HTTP route. */
export type KeysOptions = Pick<ConfigFlags, "config" | "nats" | "namespace" | "creds" | "dataDir"> & { json?: boolean };

export type KeysAction = { op: "create"; request: NewKeyRequest } | { op: "list" } | { op: "revoke"; id: string };

/**
 * `colmena keys create|list|revoke`: the API-key records, changed through
 * the system's NATS connection and credentials, so the first admin key is
 * made on the machine that runs the system. `create` prints the key once.
 */
export async function keys(action: KeysAction, options: KeysOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const config = nodeConfig({ ...options, logLevel: "warn" }, process.env);
  const log = createLogger({ level: config.log.level, nodeId: "colmena-keys" });
  const nc = await connectNats(operatorConnection(config, "colmena-keys"), log);
  try {
    const store = await KeyStore.open(nc, config.namespace);
    // Key changes from here are audited too, when the nodes keep an audit stream.
    const audit = await AuditLog.ifKept(nc, config.namespace, log);
    const changed = async (op: "create" | "revoke", info: KeyInfo) =>
      audit?.append({ kind: "key", allowed: true, caller: `cli:${userInfo().username}`, key: { op, id: info.id, role: info.role, tier: info.tier } });
    if (action.op === "create") {
      const { key, info } = await store.create(action.request);
      await changed("create", info);
      if (options.json) out.write(`${JSON.stringify({ ...info, key })}\n`);
      else out.write(`${key}\n\n${describe(info)}\nThe key is shown this once; only a digest of its secret is stored.\n`);
    } else if (action.op === "list") {
      const all = await store.list();
      if (options.json) out.write(`${JSON.stringify(all, null, 2)}\n`);
      else for (const info of all) out.write(`${describe(info)}\n`);
    } else {
      const info = await store.revoke(action.id);
      await changed("revoke", info);
      out.write(options.json ? `${JSON.stringify(info)}\n` : `revoked ${describe(info)}\n`);
    }
  } finally {
    await nc.drain();
  }
}

function describe(k: KeyInfo): string {
  const state = k.revoked ? `revoked ${k.revoked}` : k.expires ? `expires ${k.expires}` : "active";
  return `${k.id}  role=${k.role}  tier=${k.tier}  name=${JSON.stringify(k.name)}  created ${k.created}  ${state}`;
}
