/**
 * The README's quick start, black-box, in a fresh copy of the project: the
 * files a clone would have (tracked and not ignored, in a git checkout of
 * their own), with this checkout's
 * packages linked in one by one where `npm ci` would install them (the suite
 * runs without a registry), and the build `npm test` has just made (the same
 * sources, so set-up in the copy skips the build until the test changes a
 * file; one compile fewer keeps the suite short). Files keep their times, so set-up finds the
 * packages newer than the lockfile and installs nothing; were it to run
 * `npm ci` anyway, it would remove only the links, never this checkout's
 * packages. `npm start`, then every `npx colmena ...` line of the
 * README as written, a rebuild while the server runs, a restart on the same
 * data, and the same commands again.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { appendFile, cp, copyFile, mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { test } from "node:test";
import OpenAI from "openai";
import { freePort } from "../../nats/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const run = promisify(execFile);

/** The `npx colmena` lines of the README's quick start, comments dropped. */
async function readmeCommands(dir: string): Promise<string[]> {
  const readme = await readFile(join(dir, "README.md"), "utf8");
  const lines = readme.split("\n").filter((l) => l.startsWith("npx colmena "));
  return lines.map((l) => l.replace(/\s+#.*$/, ""));
}

async function freshCopy(): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), "colmena-quick-start-")), "colmena");
  const { stdout } = await run("git", ["-C", root, "ls-files", "-z", "-co", "--exclude-standard"], { maxBuffer: 16 << 20 });
  for (const file of stdout.split("\0").filter(Boolean)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await copyKeepingTimes(join(root, file), join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err; // deleted in the work tree, not yet in git
    });
  }
  const modules = join(root, "node_modules");
  await mkdir(join(dir, "node_modules"));
  for (const entry of await readdir(modules)) {
    if (entry === ".package-lock.json") await copyKeepingTimes(join(modules, entry), join(dir, "node_modules", entry));
    else await symlink(join(modules, entry), join(dir, "node_modules", entry));
  }
  // A clone is a git checkout: document ids are paths from its root.
  await run("git", ["init", "-q", dir]);
  const build = await realpath(join(root, "dist"));
  const name = build.slice(dirname(build).length + 1);
  await cp(build, join(dir, name), { recursive: true, preserveTimestamps: true });
  await symlink(name, join(dir, "dist"));
  return dir;
}

async function copyKeepingTimes(from: string, to: string): Promise<void> {
  await copyFile(from, to);
  const { atime, mtime } = await stat(from);
  await utimes(to, atime, mtime);
}

interface Server {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<number | null>;
}

/** `npm start` (its own process group, so Ctrl-C reaches npm and the node under it), until its banner names the HTTP address. */
async function npmStart(dir: string, natsPort: number): Promise<Server> {
  const child = spawn("npm", ["start", "--", "--port", "0", "--nats-port", String(natsPort), "--log-level", "warn"], { cwd: dir, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = once(child, "exit");
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => (/HTTP:\s+(\S+)/.test(out) ? resolve() : undefined));
    child.once("exit", (code) => reject(new Error(`npm start exited (${code}) before it served:\n${out}`)));
  });
  return {
    child,
    url: /HTTP:\s+(\S+)/.exec(out)![1]!,
    output: () => out,
    /** Ctrl-C: the whole group gets SIGINT; npm ends by the signal, colmena under it with 0 after its graceful stop. */
    async stop() {
      if (child.exitCode === null) process.kill(-child.pid!, "SIGINT");
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      return code ?? (signal === "SIGINT" ? 0 : null);
    },
  };
}

/** One README line, through a shell as a user would type it. */
async function colmena(dir: string, url: string, line: string): Promise<string> {
  const { stdout, stderr } = await run("sh", ["-c", line], { cwd: dir, env: { ...process.env, COLMENA_URL: url }, timeout: 60_000 });
  assert.doesNotMatch(stderr, /npm warn/i, `${line}: ${stderr}`);
  return stdout;
}

interface IngestFigures {
  stored: number;
  pending: number;
  indexed: number;
  errors: number;
  searchable: boolean;
}

async function quickStart(dir: string, url: string): Promise<{ ingest: IngestFigures; documents: number }> {
  const [ingestLine, askLine, statusLine] = await readmeCommands(dir);
  assert.ok(ingestLine && askLine && statusLine, "the README has the ingest, ask and status commands");
  const ingested = await colmena(dir, url, ingestLine);
  const documents = Number(/^stored (\d+) documents/m.exec(ingested)?.[1]);
  assert.ok(documents > 5, ingested);
  assert.match(ingested, new RegExp(`^searchable: ${documents} documents$`, "m"), "ingest returns once its documents are searchable");

  const answer = await colmena(dir, url, askLine);
  assert.match(answer, /Sources:\n\s+\[1\] .*\bREADME\.md/, answer);

  const status = await colmena(dir, url, statusLine);
  // colmena up's actors run in a worker thread, a node of its own: status shows them.
  assert.match(status, /ACTORS on \S+-a0 \(root supervisor: running\)/, status);
  for (const kind of ["embedder", "index-shard", "ingest", "query-coordinator", "llm", "pipeline"]) assert.match(status, new RegExp(`^  ${kind} \\(`, "m"), `${kind} in:\n${status}`);
  assert.match(status, /running\/accepting {2}mailbox 0\/\d+/);
  assert.match(status, /^LLM\n {2}\S+ {2}ready {2}extractive on cpu/m, "the llm instance's own statechart state");
  const figures = /stored (\d+) {2}pending (\d+) {2}indexed (\d+) {2}errors (\d+) {2}all searchable/.exec(status);
  assert.ok(figures, status);
  const [stored, pending, indexed, errors] = figures.slice(1).map(Number) as [number, number, number, number];
  return { ingest: { stored, pending, indexed, errors, searchable: true }, documents };
}

test("quick start - the README's commands work as written in a fresh copy, while a rebuild runs, and after a restart", { timeout: 300_000 }, async () => {
  const dir = await freshCopy();
  const natsPort = await freePort();
  try {
    const { stderr: setUp } = await run("bash", ["scripts/setup.sh"], { cwd: dir, timeout: 120_000 });
    assert.doesNotMatch(setUp, /npm ci/, "the linked packages are up to date");
    let server = await npmStart(dir, natsPort);
    try {
      assert.doesNotMatch(server.output(), /npm warn/i, "no npm warning on a clean machine");
      const first = await quickStart(dir, server.url);
      assert.deepEqual(first.ingest, { stored: first.documents, pending: 0, indexed: first.documents, errors: 0, searchable: true });

      // The same file keeps its id whichever folder is named: ingesting bridge/ after bridge/README.md stores it again, not twice.
      await colmena(dir, server.url, "npx colmena ingest bridge/README.md");
      await colmena(dir, server.url, "npx colmena ingest --no-wait bridge");
      for (let i = 0; i < 600 && !((await (await fetch(`${server.url}/v1/ingest`)).json()) as { searchable: boolean }).searchable; i++) await new Promise((r) => setTimeout(r, 100));
      const byId = async (id: string) => ((await (await fetch(`${server.url}/v1/documents/${id}`)).json()) as { metadata: { source: string } }).metadata.source;
      assert.equal(await byId("bridge-README-md"), "bridge/README.md");
      // Were ids relative to the folder named, bridge/README.md would have replaced the root README as README-md.
      assert.equal(await byId("README-md"), "README.md");

      // npm test beside npm start: a rebuild swaps dist under the live server; both keep working, and so does the bin.
      const before = await realpath(join(dir, "dist"));
      await appendFile(join(dir, "cli", "main.ts"), "\n// a change, so the build is made again\n");
      await run("bash", ["scripts/setup.sh"], { cwd: dir, timeout: 120_000 });
      assert.notEqual(await realpath(join(dir, "dist")), before, "a new build is swapped in under the live server");
      assert.match(await colmena(dir, server.url, "npx colmena status"), /INGEST/);
      assert.equal((await fetch(`${server.url}/ready`)).status, 200);

      await openAiSurface(server.url);
    } finally {
      assert.equal(await server.stop(), 0, `a clean stop:\n${server.output()}`);
    }

    server = await npmStart(dir, natsPort);
    try {
      const again = await quickStart(dir, server.url);
      // Stored entries: the first round, two of bridge/README.md, this round. The counters come from the streams: the restart kept them.
      const stored = 2 * again.documents + 2;
      assert.deepEqual(again.ingest, { stored, pending: 0, indexed: stored, errors: 0, searchable: true });
    } finally {
      assert.equal(await server.stop(), 0, `a clean stop:\n${server.output()}`);
    }
  } finally {
    await rm(dirname(dir), { recursive: true, force: true });
  }
});

/** The official client against the real pipeline: usage, the token limit, the model check, a cached answer streamed in pieces. */
async function openAiSurface(url: string): Promise<void> {
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
  const models = [];
  for await (const m of client.models.list()) models.push(m.id);
  assert.ok(models.includes("extractive"), models.join(", "));
  const ask = { model: "extractive", messages: [{ role: "user" as const, content: "What does the ingest stream store?" }] };

  const full = await client.chat.completions.create(ask);
  assert.ok(full.usage!.prompt_tokens > 0 && full.usage!.completion_tokens > 0, JSON.stringify(full.usage));
  assert.equal(full.usage!.total_tokens, full.usage!.prompt_tokens + full.usage!.completion_tokens);

  const short = await client.chat.completions.create({ ...ask, max_tokens: 4 });
  assert.ok(short.usage!.completion_tokens <= 4, JSON.stringify(short.usage));
  assert.equal(short.choices[0]!.finish_reason, "length");
  assert.ok(short.choices[0]!.message.content!.length < full.choices[0]!.message.content!.length);

  await assert.rejects(client.chat.completions.create({ ...ask, model: "gpt-4o" }), (e) => e instanceof OpenAI.NotFoundError && e.code === "model_not_found");

  // The non-streamed answer above is in the cache now: streamed, it still comes in pieces, with usage at the end.
  const stream = await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.equal(text, full.choices[0]!.message.content);
  assert.ok(chunks.filter((c) => c.choices[0]?.delta.content).length > 3, "a cached answer streams in pieces");
  assert.deepEqual(chunks.at(-1)!.usage, full.usage);
}
