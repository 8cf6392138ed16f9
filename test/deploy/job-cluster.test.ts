import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { startNatsServer, type NatsServer } from "../../nats/index.js";
import { buildTinyDecoder } from "../fixtures/decoder/build-decoder.js";
import { buildTinyEncoder } from "../fixtures/encoder/build-encoder.js";
import { runColmena } from "../helpers/colmena-process.js";
import { startJobTasks, type TaskProcess } from "../helpers/job-tasks.js";
import { waitFor } from "../helpers/wait.js";

const job = fileURLToPath(new URL("../../../nomad/colmena.nomad.hcl", import.meta.url));
const colmena = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const GROUPS = ["bridge", "session", "embedder", "shard", "ingest", "llm"];

/**
 * The Colmena job's own tasks, rendered with the raw_exec driver (the
 * package, at colmena_path) and count 1 per group, run on loopback as a
 * cluster: one process per group, each with the command line and the config
 * file its template writes, against a real nats-server in operator mode
 * whose node credentials reach the tasks through the Nomad Variable the
 * templates read. A question asked through the bridge group is answered
 * from a document ingested through it.
 */
describe("nomad job cluster - the Colmena job's tasks, run as rendered, form a working cluster", () => {
  let dir: string;
  let nats: NatsServer;
  let tasks: TaskProcess[] = [];
  let bridge: string;
  let key: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "colmena-job-"));
    const made = await runColmena(["nats", "creds", "--out", join(dir, "creds")]);
    assert.equal(made.code, 0, made.stderr);
    nats = await startNatsServer({ storeDir: join(dir, "js"), extraArgs: ["-c", join(dir, "creds", "nats-server.conf")] });
    // The models host volume: the embedder and llm the job's templates name, under models_dir.
    await buildTinyEncoder(join(dir, "models", "embedder"), { hidden: 384 });
    await buildTinyDecoder(join(dir, "models", "llm"));
    const nodeCreds = join(dir, "creds", "colmena-node.creds");
    tasks = await startJobTasks(job, {
      vars: {
        driver: "raw_exec",
        colmena_path: colmena,
        nats_servers: nats.url,
        models_dir: join(dir, "models"),
        shards_dir: join(dir, "shards"),
        ...Object.fromEntries(GROUPS.map((g) => [`${g}_count`, 1])),
      },
      nomadVars: { "nomad/jobs/colmena": { nats_creds: await readFile(nodeCreds, "utf8") } },
      root: join(dir, "alloc"),
      readyLine: "Ctrl-C stops it gracefully.",
    });
    bridge = `http://127.0.0.1:${tasks.find((t) => t.group === "bridge")!.ports.http}`;
    const created = await runColmena(["keys", "create", "--role", "writer", "--nats", nats.url, "--creds", nodeCreds, "--json"]);
    assert.equal(created.code, 0, created.stderr);
    key = (JSON.parse(created.stdout) as { key: string }).key;
  });

  after(async () => {
    const codes = await Promise.all(tasks.map(async (t) => [t.group, await t.stop()] as const));
    await nats?.stop();
    await rm(dir, { recursive: true, force: true });
    for (const [group, code] of codes) assert.equal(code, 0, `group ${group} stopped gracefully on its kill_signal`);
  });

  test("nomad job cluster - one process per group, each running the command line and config its task renders", async () => {
    assert.deepEqual(tasks.map((t) => t.group).sort(), [...GROUPS].sort());
    for (const t of tasks) {
      assert.equal(t.rendered.command, colmena);
      assert.equal(t.rendered.args[0], "node");
      const creds = join(dir, "alloc", `${t.group}-0`, t.task, "secrets", "nats.creds");
      assert.equal((await stat(creds)).mode & 0o077, 0, `${t.group}: the creds template's perms`);
    }
  });

  test("nomad job cluster - a document ingested through the bridge group is answered there", { timeout: 180_000 }, async () => {
    const headers = { "content-type": "application/json", authorization: `Bearer ${key}` };
    const ingest = await fetch(`${bridge}/v1/documents`, { method: "POST", headers, body: JSON.stringify({ documents: [{ id: "hives", text: "Honey bees live in hives. A hive holds one queen and thousands of workers." }] }) });
    assert.equal(ingest.status, 202, await ingest.text());
    let answer: { answer?: string; sources?: Array<{ docId?: string; id?: string }> } = {};
    // Ingest is acknowledged once stored; chunking, embedding and the shard's apply follow on other groups.
    await waitFor(
      "the question to be answered from the ingested document",
      async () => {
        const res = await fetch(`${bridge}/v1/query`, { method: "POST", headers, body: JSON.stringify({ question: "Where do honey bees live?" }) });
        if (res.status !== 200) return false;
        answer = (await res.json()) as typeof answer;
        return (answer.sources?.length ?? 0) > 0;
      },
      150_000,
    );
    assert.equal(typeof answer.answer, "string");
    assert.ok(answer.answer!.length > 0, "the llm group generated an answer");
    assert.match(JSON.stringify(answer.sources), /hives/);
  });

  test("nomad job cluster - every group serves its /metrics where its colmena-metrics service points", async () => {
    for (const t of tasks) {
      const port = t.group === "bridge" ? t.ports.http : t.ports.metrics;
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /^# TYPE colmena_actor_slots gauge$/m, t.group);
    }
  });
});
