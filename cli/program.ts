import { Command, InvalidArgumentError, Option } from "commander";
import { loadtestCommand } from "../loadtest/index.js"; // command.ts alone: the generator loads only when a scenario runs
import { ask } from "./commands/ask.js";
import { auditTail, type AuditTailOptions } from "./commands/audit.js";
import { ingest } from "./commands/ingest.js";
import { natsCreds } from "./commands/nats-creds.js";
import { natsConfig, type NatsConfigOptions } from "./commands/nats-config.js";
import { CLUSTER_CONFIG_DEFAULTS } from "../nats/index.js";
import { keys, type KeysOptions } from "./commands/keys.js";
import { status } from "./commands/status.js";
import { runNode, type NodeFlags } from "./run-node.js";
import { ROLES } from "./config.js";
import { CALLER_ROLES } from "../bridge/index.js";

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, got ${JSON.stringify(v)}`);
  return n;
};
const roleList = (v: string) => {
  const roles = v.split(",").map((r) => r.trim()).filter(Boolean);
  const bad = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (bad.length || roles.length === 0) throw new InvalidArgumentError(`unknown role ${bad.join(", ") || "(none)"}; roles are ${ROLES.join(", ")}`);
  return roles;
};

/** `--set key=value`, repeatable: collects the settings by key, a later one for the same key winning. */
const setting = (v: string, previous: Record<string, string> = {}) => {
  const at = v.indexOf("=");
  const key = v.slice(0, Math.max(at, 0));
  if (!/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(key)) throw new InvalidArgumentError(`expected key=value with a dotted config key (e.g. http.rateLimit.capacity=20), got ${JSON.stringify(v)}`);
  return { ...previous, [key]: v.slice(at + 1) };
};
import { nomadValidate } from "./commands/nomad.js";

/** Every colmena command and its options: the one parser, for the binary and for checking command lines written elsewhere (Nomad jobs). */
export function buildProgram(version: string): Command {
  const program = new Command()
    .name("colmena")
    .description("Colmena: retrieval-augmented generation on an actor runtime over NATS")
    .version(version)
    .showHelpAfterError("(add --help for the options)");

  const nodeOptions = (cmd: Command) =>
    cmd
      .option("-c, --config <file>", "JSON config file (env COLMENA_SECTION__KEY and flags override it)")
      .option("--data-dir <dir>", "data directory (shard snapshots, L3 cache, embedded JetStream)")
      .option("--port <port>", "HTTP bridge port", int("--port"))
      .option("--host <host>", "HTTP bridge address")
      .option("--insecure", "let the bridge listen beyond loopback with no authentication (http.auth.mode none)")
      .option("--namespace <name>", "subject/bucket prefix, so deployments can share a NATS cluster")
      .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]))
      .option("--set <key=value>", "any config key, dotted as in the file, e.g. http.rateLimit.capacity=20 (the value read as in COLMENA_* variables; repeatable; wins over the other flags)", setting);

  nodeOptions(program.command("up"))
    .description("the embedded single-node default: nats-server, every actor kind and the HTTP bridge in one process")
    .option("--nats <url>", "use this NATS server instead of starting one")
    .option("--nats-port <port>", "port of the embedded nats-server (default 4222, or a free one)", int("--nats-port"))
    .option("--insecure-nats", "run the embedded nats-server without authentication, for development (by default it runs in operator mode, with credentials generated into <data-dir>/nats-creds on first start)")
    .action((flags: NodeFlags) => runNode("up", flags, version));

  nodeOptions(program.command("node"))
    .description("one node of a cluster, hosting the actor kinds of its roles")
    .requiredOption("--nats <url>", "NATS server(s), comma-separated")
    .requiredOption("--roles <roles>", `comma-separated: ${ROLES.join(", ")}`, roleList)
    .option("--creds <file>", "NATS credentials (colmena nats creds writes one per role)")
    .action((flags: NodeFlags) => runNode("node", flags, version));

  const client = (cmd: Command) =>
    cmd.option("--url <url>", "HTTP bridge of a running node", process.env.COLMENA_URL ?? "http://127.0.0.1:8080").option("--api-key <key>", "API key, when the bridge requires one", process.env.COLMENA_API_KEY);

  client(program.command("ingest"))
    .description("store markdown, text and HTML files (or folders of them) durably and wait until they are searchable; a document's id is its path from the root of its git checkout")
    .argument("<paths...>", "files or folders")
    .option("--batch <n>", "documents per request", int("--batch"), 32)
    .option("--no-wait", "return once the documents are stored, before they are searchable")
    .action((paths: string[], o: { url: string; apiKey?: string; batch: number; wait: boolean }) => ingest(paths, o));

  client(program.command("ask"))
    .description("ask a question; the answer streams to the terminal, then its sources")
    .argument("<question>", "the question")
    .option("--session <id>", "continue a conversation")
    .option("--top-k <n>", "passages to retrieve", int("--top-k"))
    .option("--json", "print the whole JSON answer instead of streaming")
    .action((question: string, o: { url: string; apiKey?: string; session?: string; topK?: number; json?: boolean }) => ask(question, o));

  client(program.command("status"))
    .description("every node and thread: actor kinds and instances with their statechart states and mailbox depths; ingest progress; cache hit rates")
    .option("--json", "print the raw status document")
    .action((o: { url: string; apiKey?: string; json?: boolean }) => status(o));

  const keysCommand = program.command("keys").description("API keys: made, listed and revoked through the system's NATS connection (not over HTTP)");
  const natsClient = (cmd: Command) =>
    cmd
      .option("-c, --config <file>", "the node's JSON config file, for its NATS settings and namespace")
      .option("--nats <url>", "NATS server(s), comma-separated (default: the config's, else nats://127.0.0.1:4222)")
      .option("--namespace <name>", "the deployment's namespace")
      .option("--data-dir <dir>", "the data directory of a colmena up on this machine, whose NATS credentials are used when --creds is not given (default .colmena)")
      .option("--creds <file>", "NATS credentials (default: <data-dir>/nats-creds/<namespace>-node.creds, when it exists)")
      .option("--json", "print JSON");
  natsClient(keysCommand.command("create"))
    .description("make a key and print it once")
    .addOption(new Option("--role <role>", "what the key may do").choices(CALLER_ROLES).makeOptionMandatory())
    .option("--tier <name>", "rate-limit tier", "default")
    .option("--name <label>", "a label to recognise it by")
    .option("--expires <iso-date>", "when it stops working (ISO 8601)")
    .action((o: KeysOptions & { role: (typeof CALLER_ROLES)[number]; tier: string; name?: string; expires?: string }) =>
      keys({ op: "create", request: { role: o.role, tier: o.tier, ...(o.name !== undefined && { name: o.name }), ...(o.expires !== undefined && { expires: o.expires }) } }, o),
    );
  natsClient(keysCommand.command("list"))
    .description("every key's id, role, tier and state (never a secret)")
    .action((o: KeysOptions) => keys({ op: "list" }, o));
  natsClient(keysCommand.command("revoke"))
    .description("revoke a key: every bridge refuses it within a second")
    .argument("<id>", "the key's id (the part after colmena_)")
    .action((id: string, o: KeysOptions) => keys({ op: "revoke", id }, o));

  const auditCommand = program.command("audit").description("the audit stream: authentication decisions, admin operations, key changes");
  natsClient(auditCommand.command("tail"))
    .description("print the audit's events since a time")
    .option("--since <when>", "a duration back from now (90s, 10m, 2h, 7d) or an ISO 8601 time", "10m")
    .option("--denied", "only refused requests")
    .option("--follow", "keep printing new events")
    .action((o: AuditTailOptions) => auditTail(o));

  const port = (name: string) => (v: string) => {
    const n = int(name)(v);
    if (n < 1 || n > 65_535) throw new InvalidArgumentError(`${name} must be a port from 1 to 65535, got ${v}`);
    return n;
  };
  const natsCommand = program.command("nats").description("NATS: a cluster's server configuration, accounts and permissions");
  natsCommand
    .command("config")
    .description("write a ready JetStream cluster configuration: one nats-server file per server (server name, client, route and monitoring listeners, JetStream store directory, routes to every server)")
    .requiredOption("--out <dir>", "where the server files go (<name>-<i>.conf)")
    .option("--servers <n>", "servers in the cluster (3 to 15)", int("--servers"), CLUSTER_CONFIG_DEFAULTS.servers)
    .option("--hosts <hosts>", "comma-separated: one host per server, or one for all (then each server's ports step by one)", (v: string) => v.split(",").map((h) => h.trim()), [...CLUSTER_CONFIG_DEFAULTS.hosts])
    .option("--name <name>", "cluster name; servers are <name>-0, <name>-1, ...", CLUSTER_CONFIG_DEFAULTS.name)
    .option("--client-port <port>", "clients' port (of the first server, on one host)", port("--client-port"), CLUSTER_CONFIG_DEFAULTS.clientPort)
    .option("--cluster-port <port>", "routes' port", port("--cluster-port"), CLUSTER_CONFIG_DEFAULTS.clusterPort)
    .option("--monitor-port <port>", "HTTP monitoring port (/healthz, /jsz, /routez)", port("--monitor-port"), CLUSTER_CONFIG_DEFAULTS.monitorPort)
    .option("--store-dir <dir>", "JetStream store directories go below it, one per server (default <out>/jetstream)")
    .action((o: NatsConfigOptions) => natsConfig(o));
  natsCommand
    .command("creds")
    .description("generate an operator, the system account, an account per namespace with a node user and a service user (the service API only), and a nats-server configuration for operator mode")
    .requiredOption("--out <dir>", "where the creds files and the server configuration go")
    .option("--namespace <name>", "a namespace to make an account for (repeatable; default colmena)", (v: string, all: string[] = []) => [...all, v], [])
    .action((o: { out: string; namespace: string[] }) => natsCreds(o));

  program.addCommand(loadtestCommand());

  program
    .command("nomad")
    .description("Nomad job files")
    .command("validate")
    .description("parse job files with a real HCL parser and check them against what Colmena accepts: colmena node command lines, config files, counts within scaling bounds, GPU devices, health checks, no literal secrets")
    .argument("<files...>", "job files (.nomad.hcl)")
    .action((files: string[]) => nomadValidate(files, (args) => nodeFlags(version, args)));

  return program;
}

/** The flags `colmena node <args>` would run with, parsed by the real parser (its errors thrown, nothing run). */
export async function nodeFlags(version: string, args: string[]): Promise<NodeFlags> {
  const program = buildProgram(version).exitOverride();
  let flags: NodeFlags | undefined;
  const node = program.commands.find((c) => c.name() === "node")!;
  node.exitOverride().configureOutput({ writeErr: () => {} }).action((f: NodeFlags) => void (flags = f));
  await program.parseAsync(["node", ...args], { from: "user" });
  return flags!;
}
