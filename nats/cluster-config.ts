import { NatsError } from "./errors.js";

export interface ClusterConfigOptions {
  /** Servers in the cluster (3 or more: JetStream needs a majority to stay up when one is lost). */
  servers: number;
  /** Where each server runs: one host for all (ports then step by one per server), or one per server (the same ports on each). */
  hosts: string[];
  /** Cluster name the servers share. */
  name: string;
  /** First server's ports: clients, routes between servers, HTTP monitoring. */
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  /** JetStream store directories go below it, one per server (`<storeDir>/<server name>`). */
  storeDir: string;
}

export interface ServerConfig {
  /** Server name, `<cluster name>-<index>`: JetStream's placement and the meta group know servers by it. */
  name: string;
  host: string;
  clientPort: number;
  clusterPort: number;
  monitorPort: number;
  storeDir: string;
  /** The nats-server configuration file's text. */
  text: string;
}

export interface ClusterConfig {
  servers: ServerConfig[];
  /** Every server's client URL, comma-separated: what `colmena node --nats` takes. */
  clientUrls: string;
}

export const CLUSTER_CONFIG_DEFAULTS = { servers: 3, hosts: ["127.0.0.1"], name: "colmena", clientPort: 4222, clusterPort: 6222, monitorPort: 8222 } as const;

/**
 * A ready JetStream cluster: one nats-server configuration per server, each
 * with its name, client, route and monitoring listeners, its JetStream store
 * directory and routes to every server of the cluster (its own route is
 * harmless: a server ignores a route to itself). The tests' cluster helper
 * starts its servers from these files, and `colmena nats config` writes them
 * for a deployment. Bad options are an INVALID NatsError naming the option.
 */
export function clusterConfig(options: ClusterConfigOptions): ClusterConfig {
  const o = checked(options);
  const oneHost = o.hosts.length === 1;
  const at = (i: number) => ({ host: o.hosts[oneHost ? 0 : i]!, step: oneHost ? i : 0 });
  const routes = Array.from({ length: o.servers }, (_, i) => `nats://${hostPort(at(i).host, o.clusterPort + at(i).step)}`);
  const servers = Array.from({ length: o.servers }, (_, i): ServerConfig => {
    const { host, step } = at(i);
    const s = { name: `${o.name}-${i}`, host, clientPort: o.clientPort + step, clusterPort: o.clusterPort + step, monitorPort: o.monitorPort + step, storeDir: `${o.storeDir.replace(/\/+$/, "")}/${o.name}-${i}` };
    return { ...s, text: serverText(s, o.name, routes) };
  });
  return { servers, clientUrls: servers.map((s) => `nats://${hostPort(s.host, s.clientPort)}`).join(",") };
}

function serverText(s: Omit<ServerConfig, "text">, cluster: string, routes: string[]): string {
  const q = JSON.stringify; // nats-server's configuration accepts JSON strings
  return [
    `# nats-server ${s.name} of the ${cluster} cluster (colmena nats config)`,
    `server_name: ${q(s.name)}`,
    `listen: ${q(hostPort(s.host, s.clientPort))}`,
    `http: ${q(hostPort(s.host, s.monitorPort))}`,
    "",
    "jetstream {",
    `  store_dir: ${q(s.storeDir)}`,
    "}",
    "",
    "cluster {",
    `  name: ${q(cluster)}`,
    `  listen: ${q(hostPort(s.host, s.clusterPort))}`,
    "  routes: [",
    ...routes.map((r) => `    ${q(r)}`),
    "  ]",
    "}",
    "",
  ].join("\n");
}

const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

function checked(o: ClusterConfigOptions): ClusterConfigOptions {
  const bad = (option: string, why: string): never => {
    throw new NatsError("INVALID", `${option}: ${why}`, { details: { option } });
  };
  if (!Number.isInteger(o.servers) || o.servers < 3 || o.servers > 15) bad("servers", `a JetStream cluster needs 3 to 15 servers (a majority must survive a loss), got ${o.servers}`);
  if (o.hosts.length !== 1 && o.hosts.length !== o.servers) bad("hosts", `give one host for every server, or one for all: ${o.hosts.length} hosts for ${o.servers} servers`);
  for (const h of o.hosts) if (!/^[A-Za-z0-9.\-:]+$/.test(h)) bad("hosts", `not a host name or address: ${JSON.stringify(h)}`);
  if (new Set(o.hosts).size !== o.hosts.length) bad("hosts", "a host is named twice (servers on one host: name it once)");
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(o.name)) bad("name", `letters, digits, '-' and '_' only, at most 32: ${JSON.stringify(o.name)}`);
  if (o.storeDir.trim() === "" || /["\n]/.test(o.storeDir)) bad("storeDir", `a directory path with no quotes or newlines: ${JSON.stringify(o.storeDir)}`);
  const span = o.hosts.length === 1 ? o.servers : 1;
  const ranges: Array<[string, number]> = [["clientPort", o.clientPort], ["clusterPort", o.clusterPort], ["monitorPort", o.monitorPort]];
  for (const [option, port] of ranges) if (!Number.isInteger(port) || port < 1 || port + span - 1 > 65_535) bad(option, `a port from 1 such that ${span} consecutive ones fit below 65536, got ${port}`);
  for (const [a, pa] of ranges)
    for (const [b, pb] of ranges) if (a < b && pa < pb + span && pb < pa + span) bad(b, `its ports ${pb}..${pb + span - 1} overlap ${a}'s ${pa}..${pa + span - 1}`);
  return o;
}
