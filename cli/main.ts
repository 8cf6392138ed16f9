#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { loadtestCommand } from "../loadtest/index.js"; // command.ts alone: the generator loads only when a scenario runs
import { isTypedError } from "../runtime/index.js";
import { ask } from "./commands/ask.js";
import { ingest } from "./commands/ingest.js";
import { status } from "./commands/status.js";
import { runNode, type NodeFlags } from "./run-node.js";
import { ROLES } from "./config.js";
import { ConfigMistake } from "./preflight.js";

const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

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
    .option("--namespace <name>", "subject/bucket prefix, so deployments can share a NATS cluster")
    .addOption(new Option("--log-level <level>", "log level").choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"]))
    .option("--set <key=value>", "any config key, dotted as in the file, e.g. http.rateLimit.capacity=20 (the value read as in COLMENA_* variables; repeatable; wins over the other flags)", setting);

nodeOptions(program.command("up"))
  .description("the embedded single-node default: nats-server, every actor kind and the HTTP bridge in one process")
  .option("--nats <url>", "use this NATS server instead of starting one")
  .option("--nats-port <port>", "port of the embedded nats-server (default 4222, or a free one)", int("--nats-port"))
  .action((flags: NodeFlags) => runNode("up", flags, version));

nodeOptions(program.command("node"))
  .description("one node of a cluster, hosting the actor kinds of its roles")
  .requiredOption("--nats <url>", "NATS server(s), comma-separated")
  .requiredOption("--roles <roles>", `comma-separated: ${ROLES.join(", ")}`, roleList)
  .action((flags: NodeFlags) => runNode("node", flags, version));

const client = (cmd: Command) =>
  cmd.option("--url <url>", "HTTP bridge of a running node", process.env.COLMENA_URL ?? "http://127.0.0.1:8080").option("--api-key <key>", "API key, when the bridge requires one", process.env.COLMENA_API_KEY);

client(program.command("ingest"))
  .description("store markdown, text and HTML files (or folders of them) durably and wait until they are searchable; a document's id is its path relative to the current folder")
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
  .description("nodes, actor kinds and instances with their statechart states, mailbox depths, cache hit rates")
  .option("--json", "print the raw status document")
  .action((o: { url: string; apiKey?: string; json?: boolean }) => status(o));

program.addCommand(loadtestCommand());

// A configuration mistake exits 2, so a supervisor (systemd, Nomad) can tell it from a failure worth restarting.
program.parseAsync().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`colmena: ${isTypedError(err) ? `${err.code}: ` : ""}${message}\n`);
  process.exit(err instanceof ConfigMistake ? 2 : 1);
});
