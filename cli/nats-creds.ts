import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Permissions } from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { Subjects, type AnyHosted } from "../runtime/index.js";
import { ROLES, type Role } from "./config.js";
import { nodePermissions, rolePermissions, servicePermissions } from "./nats-permissions.js";

export interface NatsCredsLayout {
  /** nats-server configuration: operator mode, the accounts preloaded in a memory resolver. */
  serverConfig: string;
  /** Per namespace: the credentials of a node of each role, of a node of several roles, and of outside services. */
  namespaces: Record<string, { node: string; service: string; roles: Record<Role, string> }>;
}

/**
 * Generates an operator, the system account, an account per namespace
 * (JetStream enabled) and in each a user per role (rolePermissions, from
 * the kinds `kindsOf(role)` says it hosts), a `node` user (nodePermissions:
 * every role's, for nodes of several roles such as `colmena up`'s) and a
 * `service` user (servicePermissions), and
 * writes the creds files (mode 0600) and a server configuration that runs
 * nats-server 2.9 in operator mode with a memory resolver.
 */
export async function generateNatsCreds(dir: string, namespaces: readonly string[], kindsOf: (role: Role) => readonly AnyHosted[]): Promise<NatsCredsLayout> {
  const out = resolve(dir);
  const layout = credsLayout(out, namespaces);
  await mkdir(out, { recursive: true, mode: 0o700 });
  const operator = createOperator();
  const system = createAccount();
  const operatorJwt = await encodeOperator("colmena", operator, { system_account: system.getPublicKey() });
  const preload: Record<string, string> = { [system.getPublicKey()]: await encodeAccount("SYS", system, {}, { signer: operator }) };
  const write = (file: string, data: string | Uint8Array) => writeFile(file, data, { mode: 0o600 });

  for (const namespace of namespaces) {
    const prefix = new Subjects(namespace).prefix;
    const account = createAccount();
    preload[account.getPublicKey()] = await encodeAccount(
      prefix,
      account,
      { limits: { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1, subs: -1, data: -1, payload: -1, conn: -1, imports: -1, exports: -1 } },
      { signer: operator },
    );
    const user = async (name: string, permissions: Partial<Permissions>) => {
      const kp = createUser();
      await write(credsFile(out, prefix, name), fmtCreds(await encodeUser(name, kp, account, permissions), kp));
    };
    const known = ROLES.flatMap((role) => kindsOf(role));
    for (const role of ROLES) await user(role, rolePermissions(prefix, role, kindsOf(role), known));
    await user("node", nodePermissions(prefix, kindsOf));
    await user("service", servicePermissions(prefix));
  }

  await write(join(out, "operator.jwt"), operatorJwt);
  const config = [
    "# Colmena: operator mode, accounts preloaded (colmena nats creds). Start with: nats-server -js -c <this file>",
    // The operator's JWT inline, not its path: the file stands alone, so a Nomad Variable can carry it to the NATS job (nomad/nats.nomad.hcl).
    `operator: ${JSON.stringify(operatorJwt)}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    // A user's JWT travels in its CONNECT line: room for long permission lists (the default is 4 KiB).
    "max_control_line: 16384",
    "resolver_preload: {",
    ...Object.entries(preload).map(([pub, jwt]) => `  ${pub}: ${JSON.stringify(jwt)}`),
    "}",
    "",
  ].join("\n");
  await write(layout.serverConfig, config);
  return layout;
}

/** Where `colmena up` keeps its embedded nats-server's credentials. */
export const embeddedCredsDir = (dataDir: string) => join(dataDir, "nats-creds");

/** Where generateNatsCreds puts everything in `dir`. */
export function credsLayout(dir: string, namespaces: readonly string[]): NatsCredsLayout {
  const out = resolve(dir);
  const layout: NatsCredsLayout = { serverConfig: join(out, "nats-server.conf"), namespaces: {} };
  for (const namespace of namespaces) {
    const prefix = new Subjects(namespace).prefix;
    const roles = Object.fromEntries(ROLES.map((role) => [role, credsFile(out, prefix, role)])) as Record<Role, string>;
    layout.namespaces[prefix] = { node: credsFile(out, prefix, "node"), service: credsFile(out, prefix, "service"), roles };
  }
  return layout;
}

const credsFile = (dir: string, prefix: string, user: string) => join(dir, `${prefix}-${user}.creds`);
