import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { NatsError } from "./errors.js";

export const NATS_INSTALL_HINT = "install it with `sudo apt-get install -y nats-server` or set NATS_SERVER_BIN to its path";

export interface NatsServerOptions {
  /** JetStream storage directory (created if missing). */
  storeDir: string;
  /** Port to listen on; 0 or absent picks a free loopback port. */
  port?: number;
  host?: string;
  /** Binary to run; defaults to NATS_SERVER_BIN, then `nats-server` on PATH. */
  bin?: string;
  /** Largest message the server accepts (bytes). */
  maxPayload?: number;
  readyTimeoutMs?: number;
  /**
   * A configuration file that sets everything itself (listen address and
   * port, JetStream and its store directory: `clusterConfig`'s files): the
   * server is run with `-c` alone; `port`, `host` and `storeDir` must be the
   * file's, for the readiness check.
   */
  configFile?: string;
  /** More nats-server flags, e.g. ["--user", "u", "--pass", "p"]. */
  extraArgs?: string[];
  /** Lines the server writes to stderr, for the caller's log. */
  onLog?: (line: string) => void;
}

export interface NatsServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
}

/**
 * Starts nats-server as a child process with JetStream and waits until it
 * listens (its ports file, not a connection to the port: see `listening`). The server runs in a process group of its own and is
 * stopped by `stop()` or when this process exits.
 */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port || (await freePort(host));
  const bin = options.bin ?? process.env.NATS_SERVER_BIN ?? "nats-server";
  await mkdir(options.storeDir, { recursive: true });
  const args = options.configFile !== undefined ? ["-c", options.configFile] : ["-a", host, "-p", String(port), "-js", "-sd", options.storeDir];
  if (options.maxPayload !== undefined) args.push("--max_payload", String(options.maxPayload));
  args.push(...(options.extraArgs ?? []));
  // Where the server writes `<binary>_<pid>.ports` once it listens: readiness is that file of this child's pid.
  const portsDir = await mkdtemp(join(tmpdir(), "colmena-nats-ports-"));
  args.push("--ports_file_dir", portsDir);

  // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and the server
  // must outlive its parent's graceful stop (the last KV writes), so only the parent stops it.
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], detached: true });
  // ... and if the parent ends without stopping it, it does not stay behind.
  const orphaned = () => child.kill("SIGTERM");
  process.once("exit", orphaned);
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      process.off("exit", orphaned);
      resolve(code);
      // Kept while the server runs: it removes its own ports file as it stops.
      void rm(portsDir, { recursive: true, force: true });
    }),
  );
  const spawnError = new Promise<never>((_, reject) =>
    child.once("error", (err: NodeJS.ErrnoException) => {
      // A child that never started sends no exit.
      void rm(portsDir, { recursive: true, force: true });
      reject(
        err.code === "ENOENT"
          ? new NatsError("UNAVAILABLE", `nats-server not found (${bin}): ${NATS_INSTALL_HINT}`, { cause: err })
          : new NatsError("UNAVAILABLE", `nats-server could not start: ${err.message}`, { cause: err }),
      );
    }),
  );
  const stderr = collectStderr(child, options.onLog);
  const earlyExit = exited.then((code) => {
    throw new NatsError("UNAVAILABLE", `nats-server exited with code ${code} before accepting connections: ${stderr().slice(-500)}`);
  });
  spawnError.catch(() => {});
  earlyExit.catch(() => {});
  const ready = listening(portsDir, child, earlyExit, host, port, options.readyTimeoutMs ?? 10_000);
  // A wait cut short by a failed spawn reads a removed directory: that error is spawnError's to tell.
  ready.catch(() => {});
  await Promise.race([ready, spawnError, earlyExit]);

  return {
    url: `nats://${host}:${port}`,
    port,
    pid: child.pid!,
    stop: () => stopChild(child, exited),
  };
}

function collectStderr(child: ChildProcess, onLog?: (line: string) => void): () => string {
  let tail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    tail = (tail + chunk).slice(-4096);
    if (onLog) for (const line of chunk.split("\n")) if (line.trim()) onLog(line);
  });
  return () => tail;
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A port that was free a moment ago on this host. */
export function freePort(host = "127.0.0.1"): Promise<number> {
  return freePortBlock(1, host).catch(() => anyFreePort(host));
}

/**
 * Ports to listen on are picked below the kernel's ephemeral range (from
 * 32768 on Linux by default): a port the kernel hands out to outgoing
 * connections can be taken by one between the check and the listen, and
 * stay taken for as long as that connection lives.
 */
const LISTEN_PORTS = { first: 20_000, last: 32_767 };

function anyFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The first of `n` consecutive ports on `host` (default loopback) that were all free a moment ago. */
export async function freePortBlock(n: number, host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = LISTEN_PORTS.first + Math.floor(Math.random() * (LISTEN_PORTS.last - LISTEN_PORTS.first + 1 - n));
    const free = await Promise.all(Array.from({ length: n }, (_, i) => canBind(base + i, host)));
    if (free.every(Boolean)) return base;
  }
  throw new NatsError("UNAVAILABLE", `found no ${n} consecutive free ports for a local NATS cluster`);
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * Until the child has written its ports file: proof that this process
 * listens, where a connection to the port would also succeed against another
 * server that holds it (two starts that picked the same free port, or a
 * service already there), while this one fails to bind and exits.
 */
async function listening(portsDir: string, child: ChildProcess, earlyExit: Promise<never>, host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const mine = `_${child.pid}.ports`;
  while (child.exitCode === null && child.signalCode === null) {
    if ((await readdir(portsDir)).some((name) => name.endsWith(mine))) return;
    if (Date.now() > deadline) throw new NatsError("TIMEOUT", `nats-server did not accept connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
  // Exited without listening: earlyExit says how (its code and last lines).
  return earlyExit;
}

