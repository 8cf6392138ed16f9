/**
 * One Colmena under evaluation: `colmena up` from a built checkout (this one
 * or another, such as a build of main, to compare in the same run), in its
 * own process with a temporary data directory, reached only through its
 * HTTP API like any user: documents go in through POST /v1/documents,
 * questions through POST /v1/query.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../nats/index.js";

export interface EvalDocument {
  id: string;
  text: string;
  metadata: { source: string };
}

export interface Answer {
  /** The `source` metadata of each source, in the order given. */
  ranked: string[];
  answer: string;
  latencyMs: number;
}

export class ColmenaServer {
  readonly #child: ChildProcess;
  readonly #dataDir: string;
  readonly url: string;

  private constructor(child: ChildProcess, dataDir: string, url: string) {
    this.#child = child;
    this.#dataDir = dataDir;
    this.url = url;
  }

  /**
   * Starts `colmena up` of the checkout at `repoRoot` (built: dist/cli/main.js) and waits for its banner;
   * `nodeArgs` go to node before the script (`--cpu-prof`), `args` after `up`'s own.
   */
  static async start(repoRoot: string, opts: { nodeArgs?: string[]; args?: string[] } = {}): Promise<ColmenaServer> {
    const dataDir = await mkdtemp(join(tmpdir(), "colmena-eval-"));
    const main = join(repoRoot, "dist", "cli", "main.js");
    const args = [...(opts.nodeArgs ?? []), main, "up", "--port", "0", "--nats-port", String(await freePort()), "--data-dir", dataDir, "--log-level", "warn", ...(opts.args ?? [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    const url = await new Promise<string>((resolve, reject) => {
      const onData = (d: string) => {
        out += d;
        const m = /HTTP:\s+(\S+)/.exec(out);
        if (m) resolve(m[1]!);
      };
      child.stdout!.setEncoding("utf8").on("data", onData);
      child.stderr!.setEncoding("utf8").on("data", onData);
      child.once("exit", (code) => reject(new Error(`colmena up (${repoRoot}) exited with ${code} before it was ready:\n${out}`)));
    });
    return new ColmenaServer(child, dataDir, url);
  }

  /** Ingests every document and waits until each one is searchable. */
  async ingest(documents: readonly EvalDocument[], batch = 32): Promise<void> {
    for (let i = 0; i < documents.length; i += batch) await this.#json("POST", "/v1/documents", { documents: documents.slice(i, i + batch) });
    let waiting = documents.map((d) => d.id);
    for (let round = 0; waiting.length > 0; round++) {
      if (round > 600) throw new Error(`documents not searchable after 5 minutes: ${waiting.slice(0, 5).join(", ")}`);
      const still: string[] = [];
      for (const id of waiting) if ((await fetch(`${this.url}/v1/documents/${encodeURIComponent(id)}`)).status !== 200) still.push(id);
      waiting = still;
      if (waiting.length > 0) await sleep(500);
    }
  }

  /** The `colmena up` process (its nats-server is a child of it). */
  get pid(): number {
    return this.#child.pid!;
  }

  async ask(question: string, topK: number): Promise<Answer> {
    const started = performance.now();
    const result = await this.#json<{ answer: string; sources: { docId: string; metadata: Record<string, unknown> }[] }>("POST", "/v1/query", { question, top_k: topK });
    const latencyMs = performance.now() - started;
    return { ranked: result.sources.map((s) => String(s.metadata.source ?? s.docId)), answer: result.answer, latencyMs };
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null) {
      const exited = once(this.#child, "exit");
      this.#child.kill("SIGINT");
      await exited;
    }
    await rm(this.#dataDir, { recursive: true, force: true });
  }

  async #json<T>(method: string, path: string, body: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }
}
