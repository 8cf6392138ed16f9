import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./loopback.js";

/** The `colmena` command this build ships (dist/cli/main.js). */
const CLI = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

export interface Spawned {
  readonly child: ChildProcess;
  readonly dataDir: string;
  output(): string;
  /** SIGINT (a graceful stop), SIGKILL after `graceMs`; the temporary data directory goes too. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnedUp extends Spawned {
  httpUrl: string;
  natsUrl: string;
  /** The embedded NATS's credentials, from the banner: the `service` user's (the NATS API) and the `node` user's (nodes joining); absent with --insecure-nats. */
  creds?: { service: string; node: string };
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
});

/** `colmena up` on free ports in a temporary data directory; resolves once it prints its `HTTP:` line. */
export async function spawnUp(options: { readyTimeoutMs?: number; args?: string[] } = {}): Promise<SpawnedUp> {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-loadtest-"));
  const args = ["up", "--host", "127.0.0.1", "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn", ...(options.args ?? [])];
  const p = await start(args, dataDir, /HTTP:\s+\S+/, options.readyTimeoutMs ?? 60_000);
  const auth = /NATS auth: operator mode; service API clients: (\S+) .*; nodes joining: (\S+)/.exec(p.output());
  return { ...p, httpUrl: /HTTP:\s+(\S+)/.exec(p.output())![1]!, natsUrl: /NATS:\s+(\S+)/.exec(p.output())![1]!, ...(auth && { creds: { service: auth[1]!, node: auth[2]! } }) };
}

/** `colmena node --roles … --nats URL [--creds FILE]` in its own temporary data directory; resolves once it has started. */
export async function spawnNode(natsUrl: string, roles: string[], options: { readyTimeoutMs?: number; creds?: string } = {}): Promise<Spawned> {
  const dataDir = await mkdtemp(join(tmpdir(), "colmena-loadtest-node-"));
  const creds = options.creds === undefined ? [] : ["--creds", options.creds];
  return start(["node", "--roles", roles.join(","), "--nats", natsUrl, ...creds, "--data-dir", dataDir, "--log-level", "warn"], dataDir, /Ctrl-C stops it/, options.readyTimeoutMs ?? 60_000);
}

async function start(args: string[], dataDir: string, ready: RegExp, readyTimeoutMs: number): Promise<Spawned> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  live.add(child);
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out = (out + d).slice(-64 * 1024)));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out = (out + d).slice(-64 * 1024)));
  const exited = once(child, "exit");
  const stop = async (graceMs = 20_000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`colmena ${args[0]} did not start within ${readyTimeoutMs} ms:\n${out}`)), readyTimeoutMs);
      const check = () => {
        if (ready.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`colmena ${args[0]} exited (${code}) before it was ready:\n${out}`));
      });
    });
  } catch (err) {
    await stop(2_000);
    throw err;
  }
  return { child, dataDir, output: () => out, stop };
}
