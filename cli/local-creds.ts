import { existsSync } from "node:fs";
import type { NatsConnectOptions } from "../nats/index.js";
import { inboxPrefix, Subjects } from "../runtime/index.js";
import { ROLES, type ColmenaConfig } from "./config.js";
import { credsLayout, embeddedCredsDir } from "./nats-creds.js";

/**
 * The NATS settings of a command run on the machine of a `colmena up`
 * (`colmena keys`, `colmena audit`): as configured, or, when they name no
 * credentials, the `node` user's that `up` generated into its data
 * directory, when that file exists. So the quick start's `colmena keys
 * create` works as written against a secured embedded server, and only
 * someone who can read the data directory can make keys.
 */
export function withLocalCreds(config: ColmenaConfig): ColmenaConfig["nats"] {
  if (config.nats.auth.type !== "none") return config.nats;
  const prefix = new Subjects(config.namespace).prefix;
  const node = credsLayout(embeddedCredsDir(config.dataDir), [config.namespace]).namespaces[prefix]!.node;
  return existsSync(node) ? { ...config.nats, auth: { type: "creds", credsFile: node } } : config.nats;
}

/**
 * How an operator's command (`colmena keys`, `colmena audit`) connects: on
 * withLocalCreds's settings, with the inbox of a node of several roles,
 * which the `node` user may read (nodePermissions), and no reconnecting: a
 * command fails rather than waits.
 */
export function operatorConnection(config: ColmenaConfig, name: string): NatsConnectOptions {
  return { ...withLocalCreds(config), name, inboxPrefix: inboxPrefix(ROLES), maxReconnectAttempts: 0 };
}
