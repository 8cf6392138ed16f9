import { generateNatsCreds, SERVICE_INBOX_PREFIX } from "../nats-creds.js";

/** `colmena nats creds --out DIR [--namespace NS...]`: operator, accounts and users, and the server configuration. */
export async function natsCreds(options: { out: string; namespace: string[] }, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const layout = await generateNatsCreds(options.out, options.namespace.length > 0 ? options.namespace : ["colmena"]);
  out.write(`nats-server configuration: ${layout.serverConfig}\n  nats-server -js -sd <store dir> -c ${layout.serverConfig}\n`);
  for (const [namespace, files] of Object.entries(layout.namespaces)) {
    out.write(`namespace ${namespace}:\n`);
    out.write(`  nodes:    ${files.node}   (colmena node --set nats.auth='{"type":"creds","credsFile":"${files.node}"}')\n`);
    out.write(`  services: ${files.service}   (the service API only; connect with inboxPrefix "${SERVICE_INBOX_PREFIX}")\n`);
  }
}
