import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, credsAuthenticator, type NatsConnection } from "@nats-io/transport-node";
import { freePort } from "../../nats/index.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

export interface ColmenaProcess {
  httpUrl: string;
  natsUrl: string;
  /** The embedded NATS's credentials files as the banner prints them (absent with --insecure-nats or --nats). */
  creds?: { service: string; serviceInboxPrefix: string; node: string };
  dataDir: string;
  child: ChildProcess;
  output(): string;
  /** SIGINT, as Ctrl-C would, and the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs the real `colmena up` command in its own process and waits for its
 * banner. Its data directory is temporary and removed on stop, unless one is
 * given (to restart on the same data). `bin`: another build's cli/main.js.
 */
export async function startColmenaUp(args: string[] = [], keep?: { dataDir: string; natsPort: number }, bin = main, env: NodeJS.ProcessEnv = process.env): Promise<ColmenaProcess> {
  const natsPort = keep?.natsPort ?? (await freePort());
  return startColmena(["up", "--port", "0", "--nats-port", String(natsPort)], args, keep?.dataDir, bin, env);
}

/** Runs `colmena node` (roles and NATS in `args`) in its own process, as startColmenaUp does `up`; `httpUrl` is empty for a node without the bridge. */
export async function startColmenaNode(args: string[]): Promise<ColmenaProcess> {
  // Several nodes share this machine in tests: each takes a free metrics port rather than the default one.
  return startColmena(["node", "--port", "0", "--set", "metrics.port=0"], args);
}

/** How long stop() waits for a graceful exit before it kills the process. */
const STOP_GRACE_MS = 30_000;

async function startColmena(command: string[], args: string[], keptDataDir?: string, bin = main, env: NodeJS.ProcessEnv = process.env): Promise<ColmenaProcess> {
  const dataDir = keptDataDir ?? (await mkdtemp(join(tmpdir(), "colmena-up-")));
  const child = spawn(process.execPath, [bin, ...command, "--data-dir", dataDir, "--log-level", "warn", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env,
  });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    const check = () => (out.includes("Ctrl-C stops it gracefully.") ? resolve() : undefined);
    child.stdout!.on("data", check);
    child.once("exit", (code) => reject(new Error(`colmena ${command[0]} exited (${code}) before it was ready:\n${out}`)));
  });
  const auth = /NATS auth: operator mode; service API clients: (\S+) \(inboxPrefix (\S+)\); nodes joining: (\S+)/.exec(out);
  return {
    ...(auth && { creds: { service: auth[1]!, serviceInboxPrefix: auth[2]!, node: auth[3]! } }),
    httpUrl: /HTTP:\s+(\S+)/.exec(out)?.[1] ?? "",
    natsUrl: /NATS:\s+(\S+)/.exec(out)![1]!,
    dataDir,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill("SIGINT");
      // A node whose graceful stop hangs must not outlive the test that started it.
      const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      const [code] = (await exited) as [number | null];
      clearTimeout(kill);
      if (keptDataDir === undefined) await rm(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs a one-shot `colmena` command (keys, ...) to its end: its exit code and output. */
export async function runColmena(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

/**
 * Connects to a `colmena up`'s embedded NATS as one of its users: `node`
 * (every subject: a peer node, or a hostile one) or `service` (the service
 * API only, on its own inbox prefix).
 */
export async function connectToUp(up: ColmenaProcess, user: "node" | "service"): Promise<NatsConnection> {
  const creds = up.creds;
  if (!creds) throw new Error(`colmena up printed no NATS credentials:\n${up.output()}`);
  return connect({
    servers: up.natsUrl,
    authenticator: credsAuthenticator(await readFile(creds[user])),
    // Each user reads only its own replies: a service's on its prefix, a node's on the multi-role inbox.
    inboxPrefix: user === "service" ? creds.serviceInboxPrefix : "_INBOX.node",
  });
}
