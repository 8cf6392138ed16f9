import { nodeConfig } from "../config.js";
import { generateNatsCreds } from "../nats-creds.js";
import { SERVICE_INBOX_PREFIX } from "../nats-permissions.js";
import { kindsOf } from "../node.js";

/** `colmena nats creds --out DIR [--namespace NS...]`: operator, accounts and users, and the server configuration. */
export async function natsCreds(options: { out: string; namespace: string[] }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  // Kind names do not depend on their settings: the defaults tell which kinds each role hosts.
  const config = nodeConfig({}, {});
  const layout = await generateNatsCreds(options.out, options.namespace.length > 0 ? options.namespace : ["colmena"], (role) => kindsOf(config, [role]));
  out.write(`nats-server configuration: ${layout.serverConfig}\n  nats-server -js -sd <store dir> -c ${layout.serverConfig}\n`);
  for (const [namespace, files] of Object.entries(layout.namespaces)) {
    out.write(`namespace ${namespace}:\n`);
    for (const [role, file] of Object.entries(files.roles)) out.write(`  ${`${role}:`.padEnd(10)}${file}   (colmena node --roles ${role} --creds ${file})\n`);
    out.write(`  nodes:    ${files.node}   (a node of several roles, e.g. colmena up --nats)\n`);
    out.write(`  services: ${files.service}   (the service API only; connect with inboxPrefix "${SERVICE_INBOX_PREFIX}")\n`);
  }
}
