import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds, type Permissions } from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";
import { NATS_API_OPERATIONS, natsApiSubject } from "../bridge/index.js";
import { Subjects, type AnyHosted } from "../runtime/index.js";
import { ROLES, type Role } from "./config.js";

/**
 * Inbox prefix of outside services: their replies come to `_INBOX.service.…`,
 * the only subjects they may subscribe to, so they cannot read the replies
 * meant for Colmena's own nodes (on `_INBOX.<nuid>`). Clients set it as
 * their connection's `inboxPrefix`.
 */
export const SERVICE_INBOX_PREFIX = "_INBOX.service";

/**
 * What an outside service may do on NATS, cut from the subjects the service
 * API really serves (bridge/nats-service.ts): request its operations and
 * discover it (`$SRV`), and receive its replies. Nothing else: not the
 * actor subjects (pool, keyed, activate, node, stream), KV, JetStream or
 * membership, neither publishing nor subscribing.
 */
export function servicePermissions(namespace: string): Partial<Permissions> {
  return {
    pub: { allow: [...NATS_API_OPERATIONS.map((op) => natsApiSubject(namespace, op)), "$SRV.>"] },
    sub: { allow: [`${SERVICE_INBOX_PREFIX}.>`] },
  };
}

/** A valid subject token that stands for `*` while the runtime's subject code builds a pattern. */
const ANY = "ANY-TOKEN";
const pattern = (subject: string) => subject.split(".").map((t) => (t === ANY ? "*" : t)).join(".");

/**
 * What a node of one role may do, cut from the runtime's subject scheme
 * (runtime/contract/subjects.ts) and the kinds the role hosts: it may
 * subscribe only to the subjects of its own kinds (a pooled kind's queue
 * and per-node subjects; a keyed kind's activations and actors), to stream control and
 * to replies and metrics scrapes, and the bridge to the service API; so no role can serve,
 * and so read the messages of, another role's kinds. It may publish to
 * any actor (calls), JetStream and KV of its namespace's account, never
 * on the service API but for the bridge, which serves it.
 */
export function rolePermissions(namespace: string, role: Role, kinds: readonly AnyHosted[]): Partial<Permissions> {
  const s = new Subjects(namespace);
  const api = NATS_API_OPERATIONS.map((op) => natsApiSubject(namespace, op));
  const serves = kinds.flatMap((k) =>
    k.placement === "keyed" ? [s.activate(k.kind), s.activateOn(ANY, k.kind), s.keyed(k.kind, ANY)] : [s.pool(k.kind), s.poolOn(ANY, k.kind)],
  );
  const bridge = role === "bridge";
  return {
    sub: { allow: [...serves, s.streamControl(ANY), s.metrics(), "_INBOX.>", ...(bridge ? [...api, "$SRV.>"] : [])].map(pattern) },
    pub: { allow: [`${s.prefix}.>`, "_INBOX.>", "$JS.API.>", "$JS.ACK.>", "$KV.>"], ...(bridge ? {} : { deny: api }) },
  };
}

export interface NatsCredsLayout {
  /** nats-server configuration: operator mode, the accounts preloaded in a memory resolver. */
  serverConfig: string;
  /** Per namespace: the credentials of a node of each role, of a node of several roles, and of outside services. */
  namespaces: Record<string, { node: string; service: string; roles: Record<Role, string> }>;
}

/**
 * Generates an operator, the system account, an account per namespace
 * (JetStream enabled) and in each a user per role (rolePermissions, from
 * the kinds `kindsOf(role)` says it hosts), a `node` user (every subject of
 * the account, for nodes of several roles such as `colmena up`'s) and a
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
    for (const role of ROLES) await user(role, rolePermissions(prefix, role, kindsOf(role)));
    await user("node", {});
    await user("service", servicePermissions(prefix));
  }

  await write(join(out, "operator.jwt"), operatorJwt);
  const config = [
    "# Colmena: operator mode, accounts preloaded (colmena nats creds). Start with: nats-server -js -c <this file>",
    `operator: ${JSON.stringify(join(out, "operator.jwt"))}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    ...Object.entries(preload).map(([pub, jwt]) => `  ${pub}: ${JSON.stringify(jwt)}`),
    "}",
    "",
  ].join("\n");
  await write(layout.serverConfig, config);
  return layout;
}

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
