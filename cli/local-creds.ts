import { existsSync } from "node:fs";
import { Subjects } from "../runtime/index.js";
import type { ColmenaConfig } from "./config.js";
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
